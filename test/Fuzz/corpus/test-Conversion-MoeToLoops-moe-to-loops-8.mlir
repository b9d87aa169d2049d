func.func @gate_bf16(%x: tensor<?x64xbf16>, %w: tensor<8x64xbf16>) -> tensor<?x8xbf16> {
  %z = moe.gate %x, %w : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
  return %z : tensor<?x8xbf16>
}
