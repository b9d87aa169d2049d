func.func @route_ids_k(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x3xi32>, tensor<4x2xf32>)
  return
}
