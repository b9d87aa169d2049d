func.func @permute_drop(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                        %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                        %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %T: index) {
  %0:6 = moegpu.permute %x, %ids, %w drop position fused_place_blocks = 64 deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>
  return
}
