func.func @layer_empty_huge_dim(%x: tensor<4x0xf32>, %r: tensor<8x0xf32>, %gu: tensor<8x12x0xf32>, %d: tensor<8x0x9223372036854775807xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x0xf32>, tensor<8x0xf32>, tensor<8x12x0xf32>, tensor<8x0x9223372036854775807xf32>) -> tensor<4x0xf32>
  return
}
