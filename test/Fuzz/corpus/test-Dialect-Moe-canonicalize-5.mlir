func.func @zero_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) -> (tensor<f32>, tensor<4x8xf32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  %g = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<4x8xf32>
  return %l, %g : tensor<f32>, tensor<4x8xf32>
}
