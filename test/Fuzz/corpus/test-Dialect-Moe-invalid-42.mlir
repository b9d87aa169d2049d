func.func @topology_nodes(%ids: tensor<3x4xi32>) {
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 0, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}
