func.func @route_max_groups(%z: tensor<4x128xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  %0:2 = moegpu.route score sigmoid %z k = 2 groups = 64 group_topk = 1 grid = persistent tokens(%T)
      outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>) : tensor<4x128xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}
