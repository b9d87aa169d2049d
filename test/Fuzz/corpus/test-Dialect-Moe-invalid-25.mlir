func.func @route_bias_shape(%s: tensor<4x8xf32>, %b: tensor<16xf32>) {
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<16xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
