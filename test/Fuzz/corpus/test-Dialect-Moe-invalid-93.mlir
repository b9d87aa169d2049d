func.func @layer_router_dtype(%x: tensor<4x16xbf16>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xbf16>, %d: tensor<8x16x6xbf16>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xbf16>, tensor<8x16xf32>, tensor<8x12x16xbf16>, tensor<8x16x6xbf16>) -> tensor<4x16xbf16>
  return
}
