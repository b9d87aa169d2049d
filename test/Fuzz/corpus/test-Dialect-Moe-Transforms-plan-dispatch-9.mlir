func.func @dynamic_hidden(%x: tensor<4x?xbf16>, %s: tensor<4x8xf32>) -> tensor<4x?xbf16> {
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<4x?xbf16>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x?xbf16>, tensor<4x2xi32>, tensor<9xi32>)
  %y = moe.combine %rows, %map, %w
      : (tensor<8x?xbf16>, tensor<4x2xi32>, tensor<4x2xf32>) -> tensor<4x?xbf16>
  return %y : tensor<4x?xbf16>
}
