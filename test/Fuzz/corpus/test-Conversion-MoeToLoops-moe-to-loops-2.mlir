func.func @loss(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<f32> {
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 16>
      : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}
