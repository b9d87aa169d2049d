func.func @ffn_row_scales_need_fp8(%x: tensor<8x256xbf16>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>) {
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d : (tensor<8x256xbf16>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>) -> tensor<8x256xbf16>
  return
}
