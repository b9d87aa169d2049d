func.func @route_max_experts(%z: tensor<4x1024xf32>, %ids: tensor<4x8xi32>, %w: tensor<4x8xf32>, %T: index) {
  %0:2 = moegpu.route score sigmoid %z k = 8 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x8xi32>, tensor<4x8xf32>)
      : tensor<4x1024xf32> -> tensor<4x8xi32>, tensor<4x8xf32>
  return
}
