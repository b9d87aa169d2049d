func.func @quantize_scales(%x: tensor<4x256xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x3xf32>
  return
}
