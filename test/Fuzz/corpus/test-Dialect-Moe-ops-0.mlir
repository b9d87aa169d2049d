func.func @gate_score(%x: tensor<?x7168xbf16>, %w: tensor<256x7168xbf16>)
    -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %z = moe.gate %x, %w : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x256xf32>
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %p = moe.score softmax %z : tensor<?x256xf32> -> tensor<?x256xf32>
  return %s, %p : tensor<?x256xf32>, tensor<?x256xf32>
}

func.func @score_bf16(%z: tensor<4x8xbf16>) -> tensor<4x8xf32> {
  %s = moe.score sigmoid %z : tensor<4x8xbf16> -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

func.func @route_v3(%s: tensor<?x256xf32>, %b: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4
      group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

func.func @route_v2(%s: tensor<16x160xf32>) -> (tensor<16x6xi32>, tensor<16x6xf32>) {
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 group_score = max scale = 16.0
      : (tensor<16x160xf32>) -> (tensor<16x6xi32>, tensor<16x6xf32>)
  return %ids, %w : tensor<16x6xi32>, tensor<16x6xf32>
}

func.func @route_plain(%s: tensor<1x64xf32>) -> (tensor<1x6xi32>, tensor<1x6xf32>) {
  %ids, %w = moe.route %s k = 6 : (tensor<1x64xf32>) -> (tensor<1x6xi32>, tensor<1x6xf32>)
  return %ids, %w : tensor<1x6xi32>, tensor<1x6xf32>
}

func.func @counts_and_bias(%ids: tensor<?x8xi32>, %b: tensor<256xf32>) -> tensor<256xf32> {
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %b2 : tensor<256xf32>
}

func.func @quantize(%x: tensor<?x7168xbf16>, %y: tensor<4x256xf32>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<4x256xf8E4M3FN>, tensor<4x4xf32>) {
  %q, %s = moe.quantize %x group = 128 ue8m0 : tensor<?x7168xbf16> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
  %q2, %s2 = moe.quantize %y group = 64 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x4xf32>
  return %q, %s, %q2, %s2 : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<4x256xf8E4M3FN>, tensor<4x4xf32>
}

func.func @fp8_experts(%q: tensor<?x7168xf8E4M3FN>, %s: tensor<?x56xf32>, %ids: tensor<?x8xi32>,
                       %w: tensor<?x8xf32>, %gu: tensor<256x4096x7168xf8E4M3FN>,
                       %d: tensor<256x7168x2048xf8E4M3FN>, %gus: tensor<256x32x56xf32>,
                       %ds: tensor<256x56x16xf32>) -> (tensor<?x7168xbf16>, tensor<?x7168xf32>) {
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x8xi32>, tensor<?x8xf32>)
        -> (tensor<?x7168xf8E4M3FN>, tensor<?x8xi32>, tensor<257xi32>, tensor<?x56xf32>)
  %y = moe.expert_ffn %rows scales %rs offsets %off weights %gu, %d scales %gus, %ds ue8m0
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<257xi32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>)
        -> tensor<?x7168xbf16>
  %y32 = moe.expert_ffn %rows scales %rs offsets %off weights %gu, %d scales %gus, %ds
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<257xi32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>)
        -> tensor<?x7168xf32>
  return %y, %y32 : tensor<?x7168xbf16>, tensor<?x7168xf32>
}

func.func @fp8_layer(%x: tensor<?x7168xbf16>, %r: tensor<256x7168xbf16>, %b: tensor<256xf32>,
                     %gu: tensor<256x4096x7168xf8E4M3FN>, %d: tensor<256x7168x2048xf8E4M3FN>,
                     %gus: tensor<256x32x56xf32>, %ds: tensor<256x56x16xf32>,
                     %sgu: tensor<1x4096x7168xf8E4M3FN>, %sd: tensor<1x7168x2048xf8E4M3FN>,
                     %sgus: tensor<1x32x56xf32>, %sds: tensor<1x56x16xf32>) -> tensor<?x7168xbf16> {
  %y = moe.layer %x router %r bias %b experts %gu, %d scales %gus, %ds
      shared %sgu, %sd shared_scales %sgus, %sds ue8m0
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>,
         tensor<1x4096x7168xf8E4M3FN>, tensor<1x7168x2048xf8E4M3FN>, tensor<1x32x56xf32>,
         tensor<1x56x16xf32>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

func.func @losses(%s: tensor<8x256xf32>, %ids: tensor<8x8xi32>, %p: tensor<8x160xf32>,
                  %pids: tensor<8x6xi32>)
    -> (tensor<f32>, tensor<8x256xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8x160xf32>) {
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4>
      : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<f32>
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4>
      : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<8x256xf32>
  %e = moe.balance_loss %p, %pids <expert, alpha = 0.003, counts = selected>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  %d = moe.balance_loss %p, %pids <device, alpha = 0.05, devices = 8>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  %m = moe.balance_loss %p, %pids <comm, alpha = 0.02, devices = 8, device_limit = 3>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  %mg = moe.balance_loss_grad softmax %p, %pids <comm, alpha = 0.02, devices = 8, device_limit = 3>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<8x160xf32>
  return %l, %g, %e, %d, %m, %mg
      : tensor<f32>, tensor<8x256xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8x160xf32>
}

func.func @dispatch_layout(%ids: tensor<3x4xi32>)
    -> (tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>) {
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return %pe, %pr, %pn, %in : tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
}

func.func @dispatch_compute_combine(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
    %gu: tensor<8x32x64xbf16>, %d: tensor<8x64x16xbf16>,
    %sgu: tensor<1x48x64xbf16>, %sd: tensor<1x64x24xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %rows2, %map2, %off2 = moe.permute %x, %ids, %w capacity_factor = 1.25 drop position
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %rows3, %map3, %off3 = moe.permute %x, %ids, %w capacity_factor = 1.0 drop probs
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  %h = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x64xbf16>, tensor<9xi32>, tensor<8x32x64xbf16>, tensor<8x64x16xbf16>)
        -> tensor<?x64xbf16>
  %sh = moe.expert_ffn %x weights %sgu, %sd
      : (tensor<?x64xbf16>, tensor<1x48x64xbf16>, tensor<1x64x24xbf16>) -> tensor<?x64xbf16>
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %y2 = moe.combine %h, %map, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xbf16>
  return %y, %y2 : tensor<?x64xbf16>, tensor<?x64xbf16>
}

func.func @layer_full(%x: tensor<?x64xbf16>, %r: tensor<32x64xbf16>, %b: tensor<32xf32>,
    %gu: tensor<32x32x64xbf16>, %d: tensor<32x64x16xbf16>,
    %sgu: tensor<1x32x64xbf16>, %sd: tensor<1x64x16xbf16>) -> (tensor<?x64xbf16>, tensor<f32>, tensor<f32>) {
  %y, %l1, %l2 = moe.layer %x router %r bias %b experts %gu, %d shared %sgu, %sd
      score sigmoid k = 4 groups = 8 group_topk = 2 group_score = topk_sum<2> normalize
      scale = 2.5 capacity_factor = 2.0 drop position
      topology <nodes = 4, gpus_per_node = 2, experts_per_gpu = 4, node_limit = 2>
      losses [#moe.loss<sequence, alpha = 1.0e-4, counts = topk, seq_len = 2>,
              #moe.loss<device, alpha = 0.05, devices = 8>]
      : (tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<32xf32>, tensor<32x32x64xbf16>,
         tensor<32x64x16xbf16>, tensor<1x32x64xbf16>, tensor<1x64x16xbf16>)
        -> (tensor<?x64xbf16>, tensor<f32>, tensor<f32>)
  return %y, %l1, %l2 : tensor<?x64xbf16>, tensor<f32>, tensor<f32>
}

func.func @layer_minimal(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>,
    %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>)
        -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

func.func @bf16_logits(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>,
    %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) -> tensor<?x64xbf16> {
  %z = moe.gate %x, %r : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 normalize logits = bf16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

func.func @attrs() attributes {
    moe.score_func = #moe.score_func<softmax>,
    moe.drop_policy = #moe.drop_policy<position>,
    moe.group_score = #moe.group_score<topk_sum<3>>,
    moe.loss = #moe.loss<comm, alpha = 0.02, devices = 8, device_limit = 3>,
    moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>} {
  return
}
