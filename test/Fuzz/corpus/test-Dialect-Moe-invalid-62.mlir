func.func @combine_tokens(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  %y = moe.combine %h, %m, %w
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> tensor<3x16xf32>
  return
}
