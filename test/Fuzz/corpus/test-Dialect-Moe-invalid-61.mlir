func.func @ffn_dynamic_width(%r: tensor<8x16xf32>, %o: tensor<5xi32>, %gu: tensor<4x?x16xf32>, %d: tensor<4x16x6xf32>) {
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<5xi32>, tensor<4x?x16xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}
