func.func @f(%s: tensor<4x8xf32>) {
  %r:2 = "moe.route"(%s) : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
