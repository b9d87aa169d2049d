func.func @route_ids_dynamic_tokens(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return
}
