func.func @layer_fp8_hidden_blocks(%x: tensor<4x192xbf16>, %r: tensor<8x192xbf16>, %gu: tensor<8x256x192xf8E4M3FN>, %d: tensor<8x192x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>) {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds score sigmoid k = 2 : (tensor<4x192xbf16>, tensor<8x192xbf16>, tensor<8x256x192xf8E4M3FN>, tensor<8x192x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>) -> tensor<4x192xbf16>
  return
}
