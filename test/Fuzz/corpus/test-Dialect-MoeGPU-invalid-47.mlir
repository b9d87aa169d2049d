func.func @route_ids_k(%z: tensor<4x8xf32>, %ids: tensor<4x3xi32>, %w: tensor<4x2xf32>, %T: index) {
  %0:2 = moegpu.route score sigmoid %z k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x3xi32>, tensor<4x2xf32>)
      : tensor<4x8xf32> -> tensor<4x3xi32>, tensor<4x2xf32>
  return
}
