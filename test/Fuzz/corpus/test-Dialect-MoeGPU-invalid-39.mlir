func.func @route_stats_scores(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                              %st: tensor<1x16xf32>, %T: index) {
  %0:3 = moegpu.route %s k = 2 stats <sequence, alpha = 1.0e-04> chunk = 4 grid = persistent tokens(%T)
      outs(%ids, %w, %st : tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
      : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>
  return
}
