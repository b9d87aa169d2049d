func.func @layout_ranks(%ids: tensor<3x4xi32>) {
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}
