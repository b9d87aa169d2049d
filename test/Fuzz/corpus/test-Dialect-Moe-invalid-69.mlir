func.func @loss_seq_len_negative(%s: tensor<6x8xf32>, %ids: tensor<6x2xi32>) {
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, seq_len = -2> : tensor<6x8xf32>, tensor<6x2xi32> -> tensor<f32>
  return
}
