func.func @nonzero_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) -> tensor<f32> {
  %l = moe.balance_loss %s, %ids <expert, alpha = 1.0e-3> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}
