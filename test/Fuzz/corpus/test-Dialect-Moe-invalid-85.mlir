func.func @loss_grad_seq_len(%s: tensor<6x8xf32>, %ids: tensor<6x2xi32>) {
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 0.05, seq_len = 4>
      : tensor<6x8xf32>, tensor<6x2xi32> -> tensor<6x8xf32>
  return
}
