func.func @empty_hidden(%rows: tensor<64x0xf32>, %offsets: tensor<257xi32>,
                        %gate_up: tensor<256x4096x0xf32>, %down: tensor<256x0x2048xf32>)
    -> tensor<64x0xf32> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<64x0xf32>, tensor<257xi32>, tensor<256x4096x0xf32>, tensor<256x0x2048xf32>)
        -> tensor<64x0xf32>
  return %y : tensor<64x0xf32>
}
