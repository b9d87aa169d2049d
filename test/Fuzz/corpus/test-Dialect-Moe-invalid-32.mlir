func.func @permute_map_dynamic_static_tokens(%x: tensor<16x64xbf16>, %ids: tensor<16x2xi32>, %w: tensor<16x2xf32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>)
        -> (tensor<32x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  return
}
