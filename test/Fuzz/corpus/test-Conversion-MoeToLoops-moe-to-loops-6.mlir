func.func @fp8_ffn(%x: tensor<?x256xf8E4M3FN>, %xs: tensor<?x2xf32>, %off: tensor<3xi32>,
                   %gu: tensor<2x256x256xf8E4M3FN>, %d: tensor<2x256x128xf8E4M3FN>,
                   %gus: tensor<2x2x2xf32>, %ds: tensor<2x2x1xf32>) -> tensor<?x256xbf16> {
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<3xi32>, tensor<2x256x256xf8E4M3FN>,
         tensor<2x256x128xf8E4M3FN>, tensor<2x2x2xf32>, tensor<2x2x1xf32>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}
