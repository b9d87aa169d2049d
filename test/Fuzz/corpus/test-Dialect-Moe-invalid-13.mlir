func.func @route_experts_i32(%s: tensor<1x2147483648xf32>) {
  %ids, %w = moe.route %s k = 2
      : (tensor<1x2147483648xf32>) -> (tensor<1x2xi32>, tensor<1x2xf32>)
  return
}
