func.func @route_weights_tokens(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<5x2xf32>)
  return
}
