func.func @wide_groups(%s: tensor<?x256xf32>) -> tensor<?x8xi32> {
  %ids, %w = moe.route %s k = 8 groups = 4 group_topk = 2
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 2>}
      : (tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}
