func.func @combine_shared_dtype(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x2xf32>, %s: tensor<4x16xbf16>) {
  %y = moe.combine %h, %m, %w shared %s
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16xbf16>) -> tensor<4x16xf32>
  return
}
