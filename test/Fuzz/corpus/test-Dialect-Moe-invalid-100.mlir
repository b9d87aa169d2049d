func.func @layer_node_limit_groups(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      topology <nodes = 4, gpus_per_node = 1, experts_per_gpu = 2, node_limit = 1>
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}
