func.func @route_stats_seq_len(%z: tensor<6x8xf32>, %ids: tensor<6x2xi32>, %w: tensor<6x2xf32>,
                               %st: tensor<2x16xf32>, %T: index) {
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04, seq_len = 4> chunk = 4
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<6x2xi32>, tensor<6x2xf32>, tensor<2x16xf32>)
      : tensor<6x8xf32> -> tensor<6x2xi32>, tensor<6x2xf32>, tensor<2x16xf32>
  return
}
