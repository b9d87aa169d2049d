func.func @ffn_ue8m0_needs_fp8(%x: tensor<8x256xbf16>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>) {
  %y = moe.expert_ffn %x offsets %off weights %gu, %d ue8m0 : (tensor<8x256xbf16>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>) -> tensor<8x256xbf16>
  return
}
