func.func @layout(%ids: tensor<?x2xi32>) -> (tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>) {
  %e, %r, %n, %m = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 2, experts_per_gpu = 4>
      : tensor<?x2xi32> -> tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
  return %e, %r, %n, %m : tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
}

func.func @probs(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> (tensor<?x64xbf16>, tensor<17xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.25
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<17xi32>)
  return %rows, %off : tensor<?x64xbf16>, tensor<17xi32>
}

func.func @combine(%h: tensor<?x64xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>, %sh: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w shared %sh : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
