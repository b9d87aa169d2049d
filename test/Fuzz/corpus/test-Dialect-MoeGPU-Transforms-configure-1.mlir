func.func @v2(%z: tensor<?x160xbf16>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x160xbf16> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}
func.func @scores(%s: tensor<?x8xf32>) -> tensor<?x2xi32> {
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids : tensor<?x2xi32>
}
