func.func @v2(%x: tensor<8x32xf32>, %r: tensor<160x32xf32>,
              %gu: tensor<160x16x32xf32>, %d: tensor<160x32x8xf32>)
    -> (tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %y, %l1, %l2, %l3 = moe.layer %x router %r experts %gu, %d
      score softmax k = 6 groups = 8 group_topk = 3 scale = 16.0
      capacity_factor = 1.0 drop position
      topology <nodes = 1, gpus_per_node = 8, experts_per_gpu = 20>
      losses [#moe.loss<expert, alpha = 0.003>,
              #moe.loss<device, alpha = 0.05, devices = 8>,
              #moe.loss<comm, alpha = 0.02, devices = 8, device_limit = 3>]
      : (tensor<8x32xf32>, tensor<160x32xf32>, tensor<160x16x32xf32>, tensor<160x32x8xf32>)
        -> (tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>)
  return %y, %l1, %l2, %l3 : tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>
}
