func.func @quantize_group_positive(%x: tensor<4x256xf32>) {
  %q, %s = moe.quantize %x group = 0 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x2xf32>
  return
}
