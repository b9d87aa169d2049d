// One DeepSeek-V3 router training step for the GPU: routing with the
// aux-loss-free bias, the complementary sequence-wise balance loss
// (alpha = 0.0001, 4096-token sequences, counts from the plain top-8 as in the
// V3 report's eq. 18) and its gradient with respect to the router logits,
// the tokens per expert, and the bias update (gamma = 0.001). The same
// function runs on the CPU reference (moe-lower-to-cpu) and becomes CUDA
// kernels with one extern "C" launcher (moe-translate --mlir-to-cuda):
// the logits are read once for routing, loss statistics and counts, once
// more for the gradient.
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
