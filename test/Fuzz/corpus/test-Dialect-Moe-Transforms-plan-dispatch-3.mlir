func.func @v2(%s: tensor<?x160xf32>) -> tensor<?x6xi32> {
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 1, experts_per_gpu = 20, node_limit = 3>}
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids : tensor<?x6xi32>
}
