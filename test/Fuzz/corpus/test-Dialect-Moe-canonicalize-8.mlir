func.func @zero_rate(%b: tensor<8xf32>, %c: tensor<8xi32>) -> tensor<8xf32> {
  %b2 = moe.bias_update %b, %c rate = 0.0 : tensor<8xf32>, tensor<8xi32>
  return %b2 : tensor<8xf32>
}
