func.func @ffn_weight_dtype(%r: tensor<8x16xbf16>, %o: tensor<5xi32>, %gu: tensor<4x12x16xf32>, %d: tensor<4x16x6xbf16>) {
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xbf16>, tensor<5xi32>, tensor<4x12x16xf32>, tensor<4x16x6xbf16>) -> tensor<8x16xbf16>
  return
}
