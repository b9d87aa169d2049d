func.func @route_k_unreachable(%s: tensor<4x256xf32>) {
  %ids, %w = moe.route %s k = 65 groups = 8 group_topk = 2
      : (tensor<4x256xf32>) -> (tensor<4x65xi32>, tensor<4x65xf32>)
  return
}
