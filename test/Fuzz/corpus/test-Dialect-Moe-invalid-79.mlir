func.func @loss_unknown_kind(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <z_loss, alpha = 0.05> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}
