func.func @route_scores_f32(%z: tensor<4x8xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  %0:2 = moegpu.route %z k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>)
      : tensor<4x8xbf16> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}
