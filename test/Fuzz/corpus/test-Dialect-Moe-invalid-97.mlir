func.func @layer_shared_count(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>,
                              %sgu: tensor<2x12x16xf32>, %sd: tensor<2x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d shared %sgu, %sd score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>,
         tensor<2x12x16xf32>, tensor<2x16x6xf32>) -> tensor<4x16xf32>
  return
}
