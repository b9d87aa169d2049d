func.func @static_route(%z: tensor<4x16xf32>) -> tensor<4x2xi32> {
  %s = moe.score sigmoid %z : tensor<4x16xf32> -> tensor<4x16xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<4x16xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids : tensor<4x2xi32>
}
