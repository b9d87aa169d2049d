func.func @fp8_layer(%x: tensor<?x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>,
                     %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>,
                     %sgu: tensor<1x256x256xf8E4M3FN>, %sd: tensor<1x256x128xf8E4M3FN>,
                     %sgus: tensor<1x2x2xf32>, %sds: tensor<1x2x1xf32>) -> tensor<?x256xbf16> {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd
      shared_scales %sgus, %sds ue8m0 score sigmoid k = 2 normalize
      : (tensor<?x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>,
         tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xf8E4M3FN>, tensor<1x256x128xf8E4M3FN>,
         tensor<1x2x2xf32>, tensor<1x2x1xf32>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

func.func @fp8_narrow_down(%x: tensor<?x384xbf16>, %r: tensor<8x384xbf16>, %gu: tensor<8x256x384xf8E4M3FN>,
                           %d: tensor<8x384x128xf8E4M3FN>, %gus: tensor<8x2x3xf32>, %ds: tensor<8x3x1xf32>) -> tensor<?x384xbf16> {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds score sigmoid k = 2 normalize
      : (tensor<?x384xbf16>, tensor<8x384xbf16>, tensor<8x256x384xf8E4M3FN>, tensor<8x384x128xf8E4M3FN>,
         tensor<8x2x3xf32>, tensor<8x3x1xf32>) -> tensor<?x384xbf16>
  return %y : tensor<?x384xbf16>
}
