func.func @route(%s: tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %ids, %w = moe.route %s k = 6 : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}
