func.func @route_stats_chunk(%z: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                             %st: tensor<1x16xf32>, %T: index) {
  %0:3 = "moegpu.route"(%z, %T, %ids, %w, %st) <{func = #moe.score_func<sigmoid>, k = 2 : i64,
      grid = #moegpu.grid<persistent>, stats = #moe.loss<sequence, alpha = 1.0e-04>,
      operandSegmentSizes = array<i32: 1, 0, 1, 3>}>
      : (tensor<4x8xf32>, index, tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
      -> (tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
  return
}
