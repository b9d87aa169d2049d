func.func @operand_rank(%b: tensor<*xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : tensor<*xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}
