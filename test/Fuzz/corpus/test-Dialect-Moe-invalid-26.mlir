func.func @route_bias_dtype(%s: tensor<4x8xf32>, %b: tensor<8xbf16>) {
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<8xbf16>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
