func.func @block_count_rows(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  %map = tensor.empty() : tensor<4x2xi32>
  %off = tensor.empty() : tensor<9xi32>
  %s = tensor.empty() : tensor<8xi32>
  %bc = tensor.empty() : tensor<0x8xi32>
  %rows = tensor.empty() : tensor<8x64xbf16>
  %0:7 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 grid = persistent tokens(%T) outs(%map, %off, %s, %s, %bc, %off, %rows : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<0x8xi32>, tensor<9xi32>, tensor<8x64xbf16>) : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32> -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<0x8xi32>, tensor<9xi32>, tensor<8x64xbf16>
  return
}
