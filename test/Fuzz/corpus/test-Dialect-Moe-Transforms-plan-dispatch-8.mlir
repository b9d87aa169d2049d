func.func @not_a_topology(%s: tensor<?x128xf32>) -> tensor<?x8xi32> {
  %ids, %w = moe.route %s k = 8 {moe.topology = 8 : i64}
      : (tensor<?x128xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}
