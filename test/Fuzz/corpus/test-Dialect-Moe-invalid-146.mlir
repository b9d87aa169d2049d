func.func @layer_shared_down_missing(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xbf16>, %d: tensor<8x256x128xbf16>, %sgu: tensor<1x256x256xbf16>) {
  %y = "moe.layer"(%x, %r, %gu, %d, %sgu) <{k = 2 : i64, score_func = #moe.score_func<sigmoid>, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0>}> : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>, tensor<1x256x256xbf16>) -> tensor<4x256xbf16>
  return
}
