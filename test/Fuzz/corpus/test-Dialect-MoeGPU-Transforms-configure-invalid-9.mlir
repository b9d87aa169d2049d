func.func @incompatible(%z: tensor<?x8xf32>) -> (tensor<f32>, tensor<f32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %l1 = moe.balance_loss %s, %ids <sequence, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <expert, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l1, %l2 : tensor<f32>, tensor<f32>
}
