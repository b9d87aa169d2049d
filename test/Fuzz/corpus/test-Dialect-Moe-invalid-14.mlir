func.func @route_groups_positive(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 groups = 0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
