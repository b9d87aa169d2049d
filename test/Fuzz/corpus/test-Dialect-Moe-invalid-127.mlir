func.func @ffn_weight_scales_need_fp8(%x: tensor<8x256xbf16>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  %y = moe.expert_ffn %x offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xbf16>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}
