func.func @route_scale_zero(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 scale = 0.0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
