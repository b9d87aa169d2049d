func.func @gate_result_tokens(%x: tensor<4x64xf32>, %w: tensor<8x64xf32>) {
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x64xf32> -> tensor<5x8xf32>
  return
}
