func.func @folded(%z: tensor<?x64xf32>, %b: tensor<64xf32>)
    -> (tensor<?x6xi32>, tensor<64xf32>, tensor<f32>, tensor<?x6xi32>) {
  %s = moe.score sigmoid %z : tensor<?x64xf32> -> tensor<?x64xf32>
  %ids, %w = moe.route %s bias %b k = 6 groups = 8 group_topk = 4
      : (tensor<?x64xf32>, tensor<64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %c = moe.expert_counts %ids : tensor<?x6xi32> -> tensor<64xi32>
  %nb = moe.bias_update %b, %c rate = 0.0 : tensor<64xf32>, tensor<64xi32>
  %l = moe.balance_loss %s, %ids <sequence, alpha = 0.0, counts = topk, seq_len = 64>
      : tensor<?x64xf32>, tensor<?x6xi32> -> tensor<f32>
  return %ids, %nb, %l, %ids : tensor<?x6xi32>, tensor<64xf32>, tensor<f32>, tensor<?x6xi32>
}
