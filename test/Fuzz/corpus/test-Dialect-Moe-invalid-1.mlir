func.func @gate_dtype_mismatch(%x: tensor<4x64xbf16>, %w: tensor<8x64xf32>) {
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xf32> -> tensor<4x8xf32>
  return
}
