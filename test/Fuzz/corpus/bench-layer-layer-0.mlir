func.func @v3_layer(%x: tensor<?x7168xbf16>, %router: tensor<256x7168xbf16>, %bias: tensor<256xf32>,
                    %gate_up: tensor<256x4096x7168xbf16>, %down: tensor<256x7168x2048xbf16>,
                    %shared_gate_up: tensor<1x4096x7168xbf16>, %shared_down: tensor<1x7168x2048xbf16>)
    -> tensor<?x7168xbf16> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>,
         tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>,
         tensor<1x4096x7168xbf16>, tensor<1x7168x2048xbf16>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

func.func @small_layer(%x: tensor<?x256xbf16>, %router: tensor<64x256xbf16>, %bias: tensor<64xf32>,
                       %gate_up: tensor<64x256x256xbf16>, %down: tensor<64x256x128xbf16>,
                       %shared_gate_up: tensor<1x256x256xbf16>, %shared_down: tensor<1x256x128xbf16>)
    -> tensor<?x256xbf16> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 6 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xbf16>, tensor<64x256xbf16>, tensor<64xf32>,
         tensor<64x256x256xbf16>, tensor<64x256x128xbf16>,
         tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

func.func @v3_experts(%rows: tensor<?x7168xbf16>, %offsets: tensor<257xi32>,
                      %gate_up: tensor<256x4096x7168xbf16>, %down: tensor<256x7168x2048xbf16>)
    -> tensor<?x7168xbf16> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<?x7168xbf16>, tensor<257xi32>, tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>)
        -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}
