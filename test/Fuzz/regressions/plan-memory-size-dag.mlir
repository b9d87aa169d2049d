func.func @small_layer(%x: tensor<?x256xbf16>, %router: tensor<8x256xbf16>, %bias: tensor<8xf32>, %gate_up: tensor<8x256x256xf8E4M3FN>, %down: tensor<8x256x128xf8E4M3FN>, %gate_up_scales: tensor<8x2x2xf32>, %down_scales: tensor<8x2x1xf32>, %shared_gate_up: tensor<1x512x256xf8E4M3FN>, %shared_down: tensor<1x256x256xf8E4M3FN>, %shared_gate_up_scales: tensor<1x4x2xf32>, %shared_down_scales: tensor<1x2x2xf32>) -> (tensor<?x256xbf16>) {
  %r0 = moe.layer %x router %router bias %bias experts %gate_up, %down scales %gate_up_scales, %down_scales shared %shared_gate_up, %shared_down shared_scales %shared_gate_up_scales, %shared_down_scales
      score sigmoid k = 1 groups = 4 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xbf16>, tensor<8x256xbf16>, tensor<8xf32>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x512x256xf8E4M3FN>, tensor<1x256x256xf8E4M3FN>, tensor<1x4x2xf32>, tensor<1x2x2xf32>) -> (tensor<?x256xbf16>)
  return %r0 : tensor<?x256xbf16>
}

func.func @v3_fp8_layer(%x: tensor<?x7168xbf16>, %router: tensor<256x7168xbf16>, %bias: tensor<256xf32>, %gate_up: tensor<256x4096x7168xf8E4M3FN>, %down: tensor<256x7168x2048xf8E4M3FN>, %gate_up_scales: tensor<256x32x56xf32>, %down_scales: tensor<256x56x16xf32>, %shared_gate_up: tensor<1x4096x7168xf8E4M3FN>, %shared_down: tensor<1x7168x2048xf8E4M3FN>, %shared_gate_up_scales: tensor<1x32x56xf32>, %shared_down_scales: tensor<1x56x16xf32>) -> (tensor<?x7168xbf16>) {
  %r0 = moe.layer %x router %router bias %bias experts %gate_up, %down scales %gate_up_scales, %down_scales shared %shared_gate_up, %shared_down shared_scales %shared_gate_up_scales, %shared_down_scales
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>, tensor<256x4096x7168xf8E4M3FN>, tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>, tensor<1x4096x7168xf8E4M3FN>, tensor<1x7168x2048xf8E4M3FN>, tensor<1x32x56xf32>, tensor<1x56x16xf32>) -> (tensor<?x7168xbf16>)
  return %r0 : tensor<?x7168xbf16>
}

func.func @v3_bf16_layer(%x: tensor<?x7168xbf16>, %router: tensor<256x7168xbf16>, %bias: tensor<256xf32>, %gate_up: tensor<256x4096x7168xbf16>, %down: tensor<256x7168x2048xbf16>, %shared_gate_up: tensor<1x4096x7168xbf16>, %shared_down: tensor<1x7168x2048xbf16>) -> (tensor<?x7168xbf16>) {
  %r0 = moe.layer %x router %router bias %bias experts %gate_up, %down shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>, tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>, tensor<1x4096x7168xbf16>, tensor<1x7168x2048xbf16>) -> (tensor<?x7168xbf16>)
  return %r0 : tensor<?x7168xbf16>
}

func.func @small_quantize(%x: tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>) {
  %q, %s = moe.quantize %x group = 128 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  return %q, %s : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
}

func.func @small_permute(%x: tensor<?x256xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>)
    -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<9xi32>) {
  %q, %s = moe.quantize %x group = 128 ue8m0 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w capacity_factor = 1.0
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x256xf8E4M3FN>, tensor<?x2xi32>, tensor<9xi32>, tensor<?x2xf32>)
  return %rows, %rs, %map, %off : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<9xi32>
}
