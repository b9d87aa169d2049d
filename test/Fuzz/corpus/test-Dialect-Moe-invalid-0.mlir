func.func @gate_hidden_mismatch(%x: tensor<4x64xf32>, %w: tensor<8x32xf32>) {
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x32xf32> -> tensor<4x8xf32>
  return
}
