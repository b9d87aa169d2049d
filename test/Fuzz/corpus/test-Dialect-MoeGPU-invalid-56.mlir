func.func @bias_rate(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  %0 = moegpu.bias_update %b, %c rate = 0x7F800000 outs(%o : tensor<8xf32>) : tensor<8xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}
