func.func @quantize_values_shape(%x: tensor<4x256xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x128xf8E4M3FN>, tensor<4x2xf32>
  return
}
