func.func @v3_step(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %loss = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %grad = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %bias, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %w, %loss, %grad, %nb : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}

func.func @v3_step_batch(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %loss = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %grad = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %bias, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %w, %loss, %grad, %nb : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}

func.func @v3_step_selected(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %loss = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = selected, seq_len = 4096> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %grad = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = selected, seq_len = 4096> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %bias, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %w, %loss, %grad, %nb : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}

func.func @v3_step_nograd(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %loss = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096> : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %bias, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %w, %loss, %nb : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<256xf32>
}

func.func @v2_step(%z: tensor<?x160xf32>)
    -> (tensor<?x6xi32>, tensor<?x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>,
        tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003, seq_len = 4096> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, seq_len = 4096, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, seq_len = 4096, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %g1 = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.003, seq_len = 4096> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g2 = moe.balance_loss_grad softmax %s, %ids <device, alpha = 0.05, seq_len = 4096, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g3 = moe.balance_loss_grad softmax %s, %ids <comm, alpha = 0.02, seq_len = 4096, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  return %ids, %w, %l1, %l2, %l3, %g1, %g2, %g3 : tensor<?x6xi32>, tensor<?x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>
}

func.func @v2_step_batch(%z: tensor<?x160xf32>)
    -> (tensor<?x6xi32>, tensor<?x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>,
        tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %g1 = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.003> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g2 = moe.balance_loss_grad softmax %s, %ids <device, alpha = 0.05, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g3 = moe.balance_loss_grad softmax %s, %ids <comm, alpha = 0.02, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  return %ids, %w, %l1, %l2, %l3, %g1, %g2, %g3 : tensor<?x6xi32>, tensor<?x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>
}

func.func @v3_bias_update(%bias: tensor<256xf32>, %c: tensor<256xi32>) -> tensor<256xf32> {
  %nb = moe.bias_update %bias, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %nb : tensor<256xf32>
}

func.func @v3_route_counts(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}
