func.func @route_max_group_sum(%z: tensor<4x256xf32>, %ids: tensor<4x8xi32>, %w: tensor<4x8xf32>, %T: index) {
  %0:2 = moegpu.route score sigmoid %z k = 8 groups = 8 group_topk = 4 group_score = topk_sum<5>
      grid = persistent tokens(%T) outs(%ids, %w : tensor<4x8xi32>, tensor<4x8xf32>)
      : tensor<4x256xf32> -> tensor<4x8xi32>, tensor<4x8xf32>
  return
}
