func.func @shared_scores(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %s : tensor<?x2xi32>, tensor<?x8xf32>
}
