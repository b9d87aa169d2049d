func.func @layer_ue8m0_needs_fp8(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xbf16>, %d: tensor<8x256x128xbf16>) {
  %y = moe.layer %x router %r experts %gu, %d ue8m0 score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>) -> tensor<4x256xbf16>
  return
}
