func.func @route_k_zero(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 0
      : (tensor<4x8xf32>) -> (tensor<4x0xi32>, tensor<4x0xf32>)
  return
}
