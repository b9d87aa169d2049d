func.func @layer_loss_results(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  %y, %l = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      losses [#moe.loss<expert, alpha = 0.1>, #moe.loss<device, alpha = 0.1, devices = 2>]
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> (tensor<4x16xf32>, tensor<f32>)
  return
}
