func.func @gate_int_input(%x: tensor<4x64xi32>, %w: tensor<8x64xi32>) {
  %z = moe.gate %x, %w : tensor<4x64xi32>, tensor<8x64xi32> -> tensor<4x8xf32>
  return
}
