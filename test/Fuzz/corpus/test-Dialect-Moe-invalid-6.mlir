func.func @gate_result_int(%x: tensor<4x64xbf16>, %w: tensor<8x64xbf16>) {
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xbf16> -> tensor<4x8xi32>
  return
}
