func.func @memref_results(%b: memref<8xf32>, %c: memref<8xi32>, %o: memref<8xf32>) {
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : memref<8xf32>) : memref<8xf32>, memref<8xi32> -> tensor<8xf32>
  return
}
