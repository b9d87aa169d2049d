func.func @loss_count_source(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05, counts = biased> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}
