func.func @quantize_values_type(%x: tensor<4x256xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x256xbf16>, tensor<4x2xf32>
  return
}
