func.func @loss_grad_shape(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %g = moe.balance_loss_grad sigmoid %s, %ids <expert, alpha = 0.05>
      : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<4x4xf32>
  return
}
