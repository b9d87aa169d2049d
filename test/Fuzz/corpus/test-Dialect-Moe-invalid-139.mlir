func.func @layer_fp8_needs_scales(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>) -> tensor<4x256xbf16>
  return
}
