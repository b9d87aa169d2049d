func.func @v2_train(%z: tensor<?x160xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %g1 = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g2 = moe.balance_loss_grad softmax %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g3 = moe.balance_loss_grad softmax %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  return %l1, %l2, %l3, %g1, %g2, %g3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>
}
