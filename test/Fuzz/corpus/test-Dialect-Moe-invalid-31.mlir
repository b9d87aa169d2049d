func.func @permute_rows_static_dynamic_tokens(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<32x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  return
}
