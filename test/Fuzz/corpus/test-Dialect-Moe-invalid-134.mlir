func.func @ffn_fp8_down_scale_cols(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x2xf32>) {
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x2xf32>) -> tensor<8x256xbf16>
  return
}
