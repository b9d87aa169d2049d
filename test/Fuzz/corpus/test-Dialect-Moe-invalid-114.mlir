func.func @quantize_tokens(%x: tensor<?x256xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<?x256xf32> -> tensor<?x256xf8E4M3FN>, tensor<4x2xf32>
  return
}
