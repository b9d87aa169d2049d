func.func @many_experts(%z: tensor<?x1024xf32>) -> tensor<?x2xi32> {
  %s = moe.score sigmoid %z : tensor<?x1024xf32> -> tensor<?x1024xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x1024xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids : tensor<?x2xi32>
}
