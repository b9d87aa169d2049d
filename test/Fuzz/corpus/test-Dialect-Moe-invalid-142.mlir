func.func @layer_fp8_shared_bf16(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>, %sgu: tensor<1x256x256xbf16>, %sd: tensor<1x256x128xbf16>) {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<4x256xbf16>
  return
}
