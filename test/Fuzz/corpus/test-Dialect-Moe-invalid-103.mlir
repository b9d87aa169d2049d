func.func @layer_loss_seq_len(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  %y, %l = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      losses [#moe.loss<sequence, alpha = 0.1, seq_len = 3>]
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> (tensor<4x16xf32>, tensor<f32>)
  return
}
