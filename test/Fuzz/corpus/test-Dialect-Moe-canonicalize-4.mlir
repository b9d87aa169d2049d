func.func @layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                 %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %b = arith.constant dense<0.0> : tensor<8xf32>
  %y = moe.layer %x router %r bias %b experts %gu, %d score sigmoid k = 2 groups = 2 group_topk = 2 normalize
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>)
        -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
