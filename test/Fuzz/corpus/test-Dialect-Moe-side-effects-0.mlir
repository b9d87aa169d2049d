func.func @dead_and_duplicate(%z: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s1 = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x8xf32>
  %s2 = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x8xf32>
  %ids, %w = moe.route %s1 k = 2 : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %s1, %s2 : tensor<4x8xf32>, tensor<4x8xf32>
}

func.func @dead_layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                      %d: tensor<8x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}
