func.func @bf16_logits(%x: tensor<?x256xbf16>, %r: tensor<8x256xbf16>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  %z = moe.gate %x, %r : tensor<?x256xbf16>, tensor<8x256xbf16> -> tensor<?x8xbf16>
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 normalize : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}
