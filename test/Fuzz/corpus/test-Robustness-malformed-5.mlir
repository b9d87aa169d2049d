func.func @f(%s: tensor<4x8xi32>) {
  %ids, %w = moe.route %s k = 2 : (tensor<4x8xi32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
