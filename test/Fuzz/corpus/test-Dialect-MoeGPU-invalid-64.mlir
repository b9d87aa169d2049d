func.func @permute_row_bytes(%x: tensor<4x4xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                             %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                             %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %rows: tensor<8x4xbf16>, %T: index) {
  %0:7 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot, %rows : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>, tensor<8x4xbf16>)
      : tensor<4x4xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>, tensor<8x4xbf16>
  return
}
