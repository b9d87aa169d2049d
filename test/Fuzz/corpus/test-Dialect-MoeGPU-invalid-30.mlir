func.func @operand_tensor(%b: memref<8xf32>, %c: tensor<8xi32>, %o: memref<8xf32>) {
  moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : memref<8xf32>) : memref<8xf32>, tensor<8xi32>
  return
}
