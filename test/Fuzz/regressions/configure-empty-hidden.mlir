func.func @v3_layer(%x: tensor<64x0xf32>, %router: tensor<256x0xf32>, %bias: tensor<256xf32>,
                    %gate_up: tensor<256x4096x0xf32>, %down: tensor<256x0x2048xf32>,
                    %shared_gate_up: tensor<1x4096x0xf32>, %shared_down: tensor<1x0x2048xf32>)
    -> tensor<64x0xf32> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<64x0xf32>, tensor<256x0xf32>, tensor<256xf32>,
         tensor<256x4096x0xf32>, tensor<256x0x2048xf32>,
         tensor<1x4096x0xf32>, tensor<1x0x2048xf32>) -> tensor<64x0xf32>
  return %y : tensor<64x0xf32>
}

func.func @small_layer(%x: tensor<64x256xf32>, %router: tensor<64x256xf32>, %bias: tensor<64xf32>,
                       %gate_up: tensor<64x256x256xf32>, %down: tensor<64x256x128xf32>,
                       %shared_gate_up: tensor<1x256x256xf32>, %shared_down: tensor<1x256x128xf32>)
    -> tensor<64x256xf32> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 6 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<64x256xf32>, tensor<64x256xf32>, tensor<64xf32>,
         tensor<64x256x256xf32>, tensor<64x256x128xf32>,
         tensor<1x256x256xf32>, tensor<1x256x128xf32>) -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}

func.func @v3_experts(%rows: tensor<64x0xf32>, %offsets: tensor<257xi32>,
                      %gate_up: tensor<256x4096x0xf32>, %down: tensor<256x0x2048xf32>)
    -> tensor<64x0xf32> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<64x0xf32>, tensor<257xi32>, tensor<256x4096x0xf32>, tensor<256x0x2048xf32>)
        -> tensor<64x0xf32>
  return %y : tensor<64x0xf32>
}
