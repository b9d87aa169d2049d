func.func @nonzero_bias(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %b = arith.constant dense<[0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]> : tensor<8xf32>
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}
