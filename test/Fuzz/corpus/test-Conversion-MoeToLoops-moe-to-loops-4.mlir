func.func @layer(%x: tensor<4x16xbf16>, %r: tensor<8x16xbf16>, %gu: tensor<8x12x16xbf16>,
                 %d: tensor<8x16x6xbf16>) -> (tensor<4x16xbf16>, tensor<f32>) {
  %y, %l = moe.layer %x router %r experts %gu, %d score softmax k = 2 capacity_factor = 1.0
      losses [#moe.loss<expert, alpha = 0.01>]
      : (tensor<4x16xbf16>, tensor<8x16xbf16>, tensor<8x12x16xbf16>, tensor<8x16x6xbf16>)
        -> (tensor<4x16xbf16>, tensor<f32>)
  return %y, %l : tensor<4x16xbf16>, tensor<f32>
}
