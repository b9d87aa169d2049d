func.func @zero_alpha_dynamic(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<?x8xf32> {
  %g = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.0> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<?x8xf32>
  return %g : tensor<?x8xf32>
}
