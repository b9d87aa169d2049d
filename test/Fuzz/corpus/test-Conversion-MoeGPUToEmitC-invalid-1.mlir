func.func @no_abi(%x: memref<4xf32>) {
  return
}
