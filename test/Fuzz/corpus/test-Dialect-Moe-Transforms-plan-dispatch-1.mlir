func.func @reuse(%s: tensor<?x64xf32>) -> tensor<16xi32> {
  %ids, %w = moe.route %s k = 6 groups = 4 group_topk = 1
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 4, experts_per_gpu = 8>}
      : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 4, experts_per_gpu = 8>
      : tensor<?x6xi32> -> tensor<64xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>
  %c = arith.constant dense<0> : tensor<16xi32>
  return %c : tensor<16xi32>
}
