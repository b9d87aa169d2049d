func.func @permute_offsets_dynamic(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<?xi32>)
  return
}
