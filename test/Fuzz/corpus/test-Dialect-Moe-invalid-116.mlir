func.func @quantize_width_static(%x: tensor<4x?xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<4x?xf32> -> tensor<4x?xf8E4M3FN>, tensor<4x2xf32>
  return
}
