func.func @route_scores_dtype(%s: tensor<4x8xbf16>) {
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xbf16>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
