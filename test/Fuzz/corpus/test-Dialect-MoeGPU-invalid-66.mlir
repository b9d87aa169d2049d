func.func @combine_hidden(%h: tensor<?x12xf32>, %map: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                          %y: tensor<4x12xf32>, %R: index, %T: index) {
  %0 = moegpu.combine %h, %map, %w rows(%R) grid = persistent tokens(%T) outs(%y : tensor<4x12xf32>)
      : tensor<?x12xf32>, tensor<4x2xi32>, tensor<4x2xf32> -> tensor<4x12xf32>
  return
}
