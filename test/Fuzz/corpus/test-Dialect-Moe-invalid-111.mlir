func.func @quantize_group_divides(%x: tensor<4x200xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<4x200xf32> -> tensor<4x200xf8E4M3FN>, tensor<4x1xf32>
  return
}
