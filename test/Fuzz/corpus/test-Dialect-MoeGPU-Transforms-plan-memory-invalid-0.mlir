func.func @plain(%a: memref<4xf32>) {
  return
}
