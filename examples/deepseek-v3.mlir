// DeepSeek-V3 (and R1) MoE layer in the moe dialect, with the values of the
// released config.json (spec section 3.4):
//   hidden_size 7168, n_routed_experts 256, moe_intermediate_size 2048,
//   n_shared_experts 1, num_experts_per_tok 8, n_group 8, topk_group 4,
//   topk_method "noaux_tc" (group score = sum of the top-2 biased scores,
//   aux-loss-free bias e_score_correction_bias), scoring_func "sigmoid",
//   norm_topk_prob true, routed_scaling_factor 2.5.
// The token count T is a runtime size; activations and weights are bf16, the
// router arithmetic is f32 and the selection bias is f32.
//
// Try it:
//   moe-opt examples/deepseek-v3.mlir --moe-expand-layer

// Inference: routed experts + the shared expert, no auxiliary loss.
func.func @deepseek_v3_moe(
    %x: tensor<?x7168xbf16>,
    %router: tensor<256x7168xbf16>,
    %bias: tensor<256xf32>,
    %gate_up: tensor<256x4096x7168xbf16>,
    %down: tensor<256x7168x2048xbf16>,
    %shared_gate_up: tensor<1x4096x7168xbf16>,
    %shared_down: tensor<1x7168x2048xbf16>) -> tensor<?x7168xbf16> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2>
      normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>,
         tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>,
         tensor<1x4096x7168xbf16>, tensor<1x7168x2048xbf16>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

// Training (V3 report section 2.1.2, 3.2.2, 4.2): the same routing on the
// training cluster -- 64 GPUs in 8 nodes, 4 routed experts per GPU, each
// token sent to at most 4 nodes (one expert group per node) -- and the
// complementary sequence-wise balance loss with alpha = 0.0001 over
// 4096-token sequences, counted on the plain top-8 as in the report's eq. 18.
func.func @deepseek_v3_moe_train(
    %x: tensor<?x7168xbf16>,
    %router: tensor<256x7168xbf16>,
    %bias: tensor<256xf32>,
    %gate_up: tensor<256x4096x7168xbf16>,
    %down: tensor<256x7168x2048xbf16>,
    %shared_gate_up: tensor<1x4096x7168xbf16>,
    %shared_down: tensor<1x7168x2048xbf16>) -> (tensor<?x7168xbf16>, tensor<f32>) {
  %y, %loss = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2>
      normalize scale = 2.5
      topology <nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>
      losses [#moe.loss<sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>]
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>,
         tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>,
         tensor<1x4096x7168xbf16>, tensor<1x7168x2048xbf16>)
        -> (tensor<?x7168xbf16>, tensor<f32>)
  return %y, %loss : tensor<?x7168xbf16>, tensor<f32>
}

// One router training step (V3 report sections 2.1.2 and 4.2): route with the
// aux-loss-free bias, the complementary sequence-wise loss and its gradient
// with respect to the router logits, the tokens per expert, and the bias
// update with speed gamma = 0.001. The README's main job runs this function
// on the CPU reference (scripts/demo.sh).
func.func @deepseek_v3_router_step(
    %x: tensor<?x7168xbf16>,
    %router: tensor<256x7168xbf16>,
    %bias: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>,
        tensor<256xi32>, tensor<256xf32>) {
  %z = moe.gate %x, %router : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x256xf32>
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
  return %ids, %w, %loss, %grad, %counts, %new_bias
      : tensor<?x8xi32>, tensor<?x8xf32>, tensor<f32>, tensor<?x256xf32>, tensor<256xi32>, tensor<256xf32>
}
