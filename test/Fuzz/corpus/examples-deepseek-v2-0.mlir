func.func @deepseek_v2_moe_train(
    %x: tensor<?x5120xbf16>,
    %router: tensor<160x5120xbf16>,
    %gate_up: tensor<160x3072x5120xbf16>,
    %down: tensor<160x5120x1536xbf16>,
    %shared_gate_up: tensor<1x6144x5120xbf16>,
    %shared_down: tensor<1x5120x3072xbf16>)
    -> (tensor<?x5120xbf16>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %y, %l_exp, %l_dev, %l_comm = moe.layer %x router %router
      experts %gate_up, %down shared %shared_gate_up, %shared_down
      score softmax k = 6 groups = 8 group_topk = 3 group_score = max scale = 16.0
      topology <nodes = 1, gpus_per_node = 8, experts_per_gpu = 20>
      losses [#moe.loss<expert, alpha = 0.003, seq_len = 4096>,
              #moe.loss<device, alpha = 0.05, seq_len = 4096, devices = 8>,
              #moe.loss<comm, alpha = 0.02, seq_len = 4096, devices = 8, device_limit = 3>]
      : (tensor<?x5120xbf16>, tensor<160x5120xbf16>, tensor<160x3072x5120xbf16>,
         tensor<160x5120x1536xbf16>, tensor<1x6144x5120xbf16>, tensor<1x5120x3072xbf16>)
        -> (tensor<?x5120xbf16>, tensor<f32>, tensor<f32>, tensor<f32>)
  return %y, %l_exp, %l_dev, %l_comm
      : tensor<?x5120xbf16>, tensor<f32>, tensor<f32>, tensor<f32>
}

func.func @deepseek_v2_moe(
    %x: tensor<?x5120xbf16>,
    %router: tensor<160x5120xbf16>,
    %gate_up: tensor<160x3072x5120xbf16>,
    %down: tensor<160x5120x1536xbf16>,
    %shared_gate_up: tensor<1x6144x5120xbf16>,
    %shared_down: tensor<1x5120x3072xbf16>) -> tensor<?x5120xbf16> {
  %y = moe.layer %x router %router experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score softmax k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x5120xbf16>, tensor<160x5120xbf16>, tensor<160x3072x5120xbf16>,
         tensor<160x5120x1536xbf16>, tensor<1x6144x5120xbf16>, tensor<1x5120x3072xbf16>)
        -> tensor<?x5120xbf16>
  return %y : tensor<?x5120xbf16>
}

func.func @deepseek_v2_lite_moe_train(
    %x: tensor<?x2048xbf16>,
    %router: tensor<64x2048xbf16>,
    %gate_up: tensor<64x2816x2048xbf16>,
    %down: tensor<64x2048x1408xbf16>,
    %shared_gate_up: tensor<1x5632x2048xbf16>,
    %shared_down: tensor<1x2048x2816xbf16>) -> (tensor<?x2048xbf16>, tensor<f32>) {
  %y, %loss = moe.layer %x router %router experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score softmax k = 6
      losses [#moe.loss<expert, alpha = 0.001, seq_len = 4096>]
      : (tensor<?x2048xbf16>, tensor<64x2048xbf16>, tensor<64x2816x2048xbf16>,
         tensor<64x2048x1408xbf16>, tensor<1x5632x2048xbf16>, tensor<1x2048x2816xbf16>)
        -> (tensor<?x2048xbf16>, tensor<f32>)
  return %y, %loss : tensor<?x2048xbf16>, tensor<f32>
}
