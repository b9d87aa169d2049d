func.func @v3(%x: tensor<?x64xbf16>, %r: tensor<32x64xbf16>, %b: tensor<32xf32>,
              %gu: tensor<32x32x64xbf16>, %d: tensor<32x64x16xbf16>,
              %sgu: tensor<1x32x64xbf16>, %sd: tensor<1x64x16xbf16>) -> (tensor<?x64xbf16>, tensor<f32>) {
  %y, %l = moe.layer %x router %r bias %b experts %gu, %d shared %sgu, %sd
      score sigmoid k = 4 groups = 8 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.5
      losses [#moe.loss<sequence, alpha = 1.0e-4, counts = topk, seq_len = 2>]
      : (tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<32xf32>, tensor<32x32x64xbf16>,
         tensor<32x64x16xbf16>, tensor<1x32x64xbf16>, tensor<1x64x16xbf16>)
        -> (tensor<?x64xbf16>, tensor<f32>)
  return %y, %l : tensor<?x64xbf16>, tensor<f32>
}
