func.func @v3_fp8(%x: tensor<4096x7168xf8E4M3FN>, %xs: tensor<4096x56xf32>, %s: tensor<4096x256xf32>, %b: tensor<256xf32>) -> tensor<32768x7168xf8E4M3FN> {
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>}
      : (tensor<4096x256xf32>, tensor<256xf32>) -> (tensor<4096x8xi32>, tensor<4096x8xf32>)
  %rows, %map, %off, %rs = moe.permute %x scales %xs, %ids, %w
      : (tensor<4096x7168xf8E4M3FN>, tensor<4096x56xf32>, tensor<4096x8xi32>, tensor<4096x8xf32>)
        -> (tensor<32768x7168xf8E4M3FN>, tensor<4096x8xi32>, tensor<257xi32>, tensor<32768x56xf32>)
  return %rows : tensor<32768x7168xf8E4M3FN>
}
