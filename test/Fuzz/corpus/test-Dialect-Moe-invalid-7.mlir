func.func @layer_logits_type(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>, %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 logits = f16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return
}
