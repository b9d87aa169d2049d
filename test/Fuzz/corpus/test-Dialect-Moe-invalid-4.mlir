func.func @gate_dynamic_experts(%x: tensor<4x64xf32>, %w: tensor<?x64xf32>) {
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<?x64xf32> -> tensor<4x?xf32>
  return
}
