func.func @two_layers(%x: tensor<4x?xf32>, %r: tensor<8x?xf32>, %gu: tensor<8x12x?xf32>,
                      %d: tensor<8x?x6xf32>) -> tensor<4x?xf32> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<4x?xf32>, tensor<8x?xf32>, tensor<8x12x?xf32>, tensor<8x?x6xf32>) -> tensor<4x?xf32>
  %z = moe.layer %y router %r experts %gu, %d score sigmoid k = 1
      : (tensor<4x?xf32>, tensor<8x?xf32>, tensor<8x12x?xf32>, tensor<8x?x6xf32>) -> tensor<4x?xf32>
  return %z : tensor<4x?xf32>
}
