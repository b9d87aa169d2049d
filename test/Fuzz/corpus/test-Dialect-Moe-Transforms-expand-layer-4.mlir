func.func @bf16_logits(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>,
                       %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) -> tensor<?x64xbf16> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 normalize logits = bf16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
