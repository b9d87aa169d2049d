func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}
