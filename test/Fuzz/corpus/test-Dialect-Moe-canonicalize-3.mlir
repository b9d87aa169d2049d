func.func @all_groups_kept(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %ids, %w = moe.route %s k = 2 groups = 4 group_topk = 4 group_score = topk_sum<2> normalize scale = 1.0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}
