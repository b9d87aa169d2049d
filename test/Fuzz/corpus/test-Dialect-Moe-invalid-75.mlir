func.func @loss_limit_range(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <comm, alpha = 0.02, devices = 2, device_limit = 3> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}
