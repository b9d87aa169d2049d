func.func @operand_element(%b: tensor<8xf32>, %c: tensor<8xi64>, %o: tensor<8xf32>) {
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : tensor<8xf32>, tensor<8xi64> -> tensor<8xf32>
  return
}
