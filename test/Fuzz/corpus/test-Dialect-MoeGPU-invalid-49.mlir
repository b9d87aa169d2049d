func.func @route_stats_rows(%z: tensor<8x8xf32>, %ids: tensor<8x2xi32>, %w: tensor<8x2xf32>,
                            %st: tensor<3x16xf32>, %T: index) {
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04> chunk = 4
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<8x2xi32>, tensor<8x2xf32>, tensor<3x16xf32>)
      : tensor<8x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>, tensor<3x16xf32>
  return
}
