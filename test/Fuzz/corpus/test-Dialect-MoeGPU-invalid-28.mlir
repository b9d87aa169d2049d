func.func @init_mix(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: memref<4x2xf32>, %T: index) {
  %0 = moegpu.route %s k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x2xi32>, memref<4x2xf32>)
      : tensor<4x8xf32> -> tensor<4x2xi32>
  return
}
