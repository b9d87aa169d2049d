func.func @loss_result_type(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<1xf32>
  return
}
