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
