func.func @route_max_k(%z: tensor<4x64xf32>, %ids: tensor<4x40xi32>, %w: tensor<4x40xf32>, %T: index) {
  %0:2 = moegpu.route score sigmoid %z k = 40 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x40xi32>, tensor<4x40xf32>)
      : tensor<4x64xf32> -> tensor<4x40xi32>, tensor<4x40xf32>
  return
}
