func.func @wrong_experts(%s: tensor<?x128xf32>) -> tensor<?x8xi32> {
  %ids, %w = moe.route %s k = 8
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4>}
      : (tensor<?x128xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}
