func.func @options(%s: tensor<?x32xf32>) -> tensor<?x4xi32> {
  %ids, %w = moe.route %s k = 4 groups = 4 group_topk = 2 : (tensor<?x32xf32>) -> (tensor<?x4xi32>, tensor<?x4xf32>)
  return %ids : tensor<?x4xi32>
}
