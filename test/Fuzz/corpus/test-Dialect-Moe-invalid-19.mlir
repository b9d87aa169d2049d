func.func @route_k_too_many(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 9
      : (tensor<4x8xf32>) -> (tensor<4x9xi32>, tensor<4x9xf32>)
  return
}
