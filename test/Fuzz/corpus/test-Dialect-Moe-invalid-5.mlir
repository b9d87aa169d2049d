func.func @gate_result_dtype(%x: tensor<4x64xbf16>, %w: tensor<8x64xbf16>) {
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xbf16> -> tensor<4x8xf16>
  return
}
