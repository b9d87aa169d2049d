func.func @permute_scales_tokens(%x: tensor<4x256xf8E4M3FN>, %s: tensor<5x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  %rows, %map, %off, %rs = moe.permute %x scales %s, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<5x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>, tensor<8x2xf32>)
  return
}
