func.func @permute_fp8_needs_scales(%x: tensor<4x256xf8E4M3FN>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>)
  return
}
