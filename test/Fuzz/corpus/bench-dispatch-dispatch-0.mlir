func.func @layout(%ids: tensor<?x8xi32>)
    -> (tensor<256xi32>, tensor<64xi32>, tensor<8xi32>, tensor<?x64xi1>) {
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids topology <nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>
      : tensor<?x8xi32> -> tensor<256xi32>, tensor<64xi32>, tensor<8xi32>, tensor<?x64xi1>
  return %pe, %pr, %pn, %in : tensor<256xi32>, tensor<64xi32>, tensor<8xi32>, tensor<?x64xi1>
}

func.func @permute(%x: tensor<?x7168xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @permute_probs(%x: tensor<?x7168xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00
      : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @permute_position(%x: tensor<?x7168xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00 drop position
      : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @combine(%h: tensor<?x7168xbf16>, %map: tensor<?x8xi32>, %w: tensor<?x8xf32>, %sh: tensor<?x7168xbf16>)
    -> tensor<?x7168xbf16> {
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x7168xbf16>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

func.func @combine_noshared(%h: tensor<?x7168xbf16>, %map: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> tensor<?x7168xbf16> {
  %y = moe.combine %h, %map, %w
      : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

func.func @permute_h64(%x: tensor<?x64xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @permute_probs_h64(%x: tensor<?x64xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @permute_position_h64(%x: tensor<?x64xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00 drop position
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x64xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @combine_h64(%h: tensor<?x64xbf16>, %map: tensor<?x8xi32>, %w: tensor<?x8xf32>, %sh: tensor<?x64xbf16>)
    -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

func.func @combine_noshared_h64(%h: tensor<?x64xbf16>, %map: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w
      : (tensor<?x64xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

func.func @permute_h8(%x: tensor<?x8xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>
}

func.func @permute_probs_h8(%x: tensor<?x8xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>)
    -> (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00
      : (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<?x8xf32>) -> (tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>)
  return %rows, %map, %off : tensor<?x8xbf16>, tensor<?x8xi32>, tensor<257xi32>
}
