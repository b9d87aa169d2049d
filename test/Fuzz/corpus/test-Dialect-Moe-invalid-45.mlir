func.func @topology_overflow(%ids: tensor<3x4xi32>) {
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2147483647, gpus_per_node = 8, experts_per_gpu = 2147483647>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2147483647xi32>, tensor<4x16xi1>
  return
}
