func.func @layer_k(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 3 groups = 4 group_topk = 1
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}
