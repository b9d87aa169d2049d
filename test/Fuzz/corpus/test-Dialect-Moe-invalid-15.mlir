func.func @route_group_topk_large(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 3
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
