func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

func.func @v3_train(%z: tensor<?x256xf32>, %b: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %b, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %l, %g, %nb : tensor<?x8xi32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}
