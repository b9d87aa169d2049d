func.func @gate_result_experts(%x: tensor<4x64xf32>, %w: tensor<8x64xf32>) {
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x64xf32> -> tensor<4x16xf32>
  return
}
