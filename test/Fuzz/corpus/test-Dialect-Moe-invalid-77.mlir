func.func @loss_k_too_large(%s: tensor<4x8xf32>, %ids: tensor<4x9xi32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<4x9xi32> -> tensor<f32>
  return
}
