func.func @ffn_fp8_rows_need_scales(%x: tensor<8x256xf8E4M3FN>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  %y = moe.expert_ffn %x offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}
