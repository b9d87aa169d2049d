func.func @deepseek_v3_router_train(%z: tensor<?x256xf32>, %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %bias k = 8 groups = 8 group_topk = 4
      group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %loss = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %grad = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %counts = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %new_bias = moe.bias_update %bias, %counts rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %w, %loss, %grad, %new_bias
      : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}
