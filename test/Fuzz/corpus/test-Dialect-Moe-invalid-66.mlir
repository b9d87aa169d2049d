func.func @loss_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = -1.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}
