func.func @bias_counts(%b: tensor<8xf32>, %c: tensor<4xi32>) {
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<8xf32>, tensor<4xi32>
  return
}
