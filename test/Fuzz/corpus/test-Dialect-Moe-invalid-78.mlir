func.func @loss_tokens(%s: tensor<4x8xf32>, %ids: tensor<5x2xi32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<5x2xi32> -> tensor<f32>
  return
}
