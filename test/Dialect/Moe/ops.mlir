// RUN: moe-opt %s --verify-roundtrip | FileCheck %s
// RUN: moe-opt %s --mlir-print-op-generic | moe-opt | FileCheck %s
// Every op and attribute of the moe dialect, in custom and generic form.

// CHECK-LABEL: func.func @gate_score
// CHECK-SAME: (%[[X:.+]]: tensor<?x7168xbf16>, %[[W:.+]]: tensor<256x7168xbf16>)
func.func @gate_score(%x: tensor<?x7168xbf16>, %w: tensor<256x7168xbf16>)
    -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  // CHECK: %[[Z:.+]] = moe.gate %[[X]], %[[W]] : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x256xf32>
  %z = moe.gate %x, %w : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x256xf32>
  // CHECK: moe.score sigmoid %[[Z]] : tensor<?x256xf32> -> tensor<?x256xf32>
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  // CHECK: moe.score softmax %[[Z]] : tensor<?x256xf32> -> tensor<?x256xf32>
  %p = moe.score softmax %z : tensor<?x256xf32> -> tensor<?x256xf32>
  return %s, %p : tensor<?x256xf32>, tensor<?x256xf32>
}

// CHECK-LABEL: func.func @score_bf16
func.func @score_bf16(%z: tensor<4x8xbf16>) -> tensor<4x8xf32> {
  // CHECK: moe.score sigmoid %{{.+}} : tensor<4x8xbf16> -> tensor<4x8xf32>
  %s = moe.score sigmoid %z : tensor<4x8xbf16> -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @route_v3
// CHECK-SAME: (%[[S:.+]]: tensor<?x256xf32>, %[[B:.+]]: tensor<256xf32>)
func.func @route_v3(%s: tensor<?x256xf32>, %b: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  // CHECK: %[[IDS:.+]], %[[WTS:.+]] = moe.route %[[S]] bias %[[B]] k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.500000e+00
  // CHECK-SAME: : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4
      group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  // CHECK: return %[[IDS]], %[[WTS]]
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// CHECK-LABEL: func.func @route_v2
func.func @route_v2(%s: tensor<16x160xf32>) -> (tensor<16x6xi32>, tensor<16x6xf32>) {
  // The default group score (max) is not printed.
  // CHECK: moe.route %{{.+}} k = 6 groups = 8 group_topk = 3 scale = 1.600000e+01 :
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 group_score = max scale = 16.0
      : (tensor<16x160xf32>) -> (tensor<16x6xi32>, tensor<16x6xf32>)
  return %ids, %w : tensor<16x6xi32>, tensor<16x6xf32>
}

// CHECK-LABEL: func.func @route_plain
func.func @route_plain(%s: tensor<1x64xf32>) -> (tensor<1x6xi32>, tensor<1x6xf32>) {
  // CHECK: moe.route %{{.+}} k = 6 : (tensor<1x64xf32>) -> (tensor<1x6xi32>, tensor<1x6xf32>)
  %ids, %w = moe.route %s k = 6 : (tensor<1x64xf32>) -> (tensor<1x6xi32>, tensor<1x6xf32>)
  return %ids, %w : tensor<1x6xi32>, tensor<1x6xf32>
}

// CHECK-LABEL: func.func @counts_and_bias
func.func @counts_and_bias(%ids: tensor<?x8xi32>, %b: tensor<256xf32>) -> tensor<256xf32> {
  // CHECK: %[[C:.+]] = moe.expert_counts %{{.+}} : tensor<?x8xi32> -> tensor<256xi32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  // CHECK: moe.bias_update %{{.+}}, %[[C]] rate = 1.000000e-03 : tensor<256xf32>, tensor<256xi32>
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %b2 : tensor<256xf32>
}

// CHECK-LABEL: func.func @quantize
func.func @quantize(%x: tensor<?x7168xbf16>, %y: tensor<4x256xf32>) -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<4x256xf8E4M3FN>, tensor<4x4xf32>) {
  // CHECK: moe.quantize %{{.+}} group = 128 ue8m0 : tensor<?x7168xbf16> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
  %q, %s = moe.quantize %x group = 128 ue8m0 : tensor<?x7168xbf16> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
  // CHECK: moe.quantize %{{.+}} group = 64 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x4xf32>
  %q2, %s2 = moe.quantize %y group = 64 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x4xf32>
  return %q, %s, %q2, %s2 : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<4x256xf8E4M3FN>, tensor<4x4xf32>
}

// DeepSeek-V3's FP8 experts: e4m3 rows and weights with block scales.
// CHECK-LABEL: func.func @fp8_experts
func.func @fp8_experts(%q: tensor<?x7168xf8E4M3FN>, %s: tensor<?x56xf32>, %ids: tensor<?x8xi32>,
                       %w: tensor<?x8xf32>, %gu: tensor<256x4096x7168xf8E4M3FN>,
                       %d: tensor<256x7168x2048xf8E4M3FN>, %gus: tensor<256x32x56xf32>,
                       %ds: tensor<256x56x16xf32>) -> (tensor<?x7168xbf16>, tensor<?x7168xf32>) {
  // CHECK: %[[ROWS:.+]], %{{.+}}, %[[OFF:.+]], %[[RS:.+]] = moe.permute %{{.+}} scales %{{.+}}, %{{.+}}, %{{.+}} :
  // CHECK-SAME: -> (tensor<?x7168xf8E4M3FN>, tensor<?x8xi32>, tensor<257xi32>, tensor<?x56xf32>)
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x8xi32>, tensor<?x8xf32>)
        -> (tensor<?x7168xf8E4M3FN>, tensor<?x8xi32>, tensor<257xi32>, tensor<?x56xf32>)
  // CHECK: moe.expert_ffn %[[ROWS]] scales %[[RS]] offsets %[[OFF]] weights %{{.+}}, %{{.+}} scales %{{.+}}, %{{.+}} ue8m0 :
  // CHECK-SAME: -> tensor<?x7168xbf16>
  %y = moe.expert_ffn %rows scales %rs offsets %off weights %gu, %d scales %gus, %ds ue8m0
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<257xi32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>)
        -> tensor<?x7168xbf16>
  // The output type is free: f32 here.
  // CHECK: moe.expert_ffn %[[ROWS]] scales %[[RS]] offsets %[[OFF]] weights %{{.+}}, %{{.+}} scales %{{.+}}, %{{.+}} :
  // CHECK-SAME: -> tensor<?x7168xf32>
  %y32 = moe.expert_ffn %rows scales %rs offsets %off weights %gu, %d scales %gus, %ds
      : (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<257xi32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>)
        -> tensor<?x7168xf32>
  return %y, %y32 : tensor<?x7168xbf16>, tensor<?x7168xf32>
}

// CHECK-LABEL: func.func @fp8_layer
func.func @fp8_layer(%x: tensor<?x7168xbf16>, %r: tensor<256x7168xbf16>, %b: tensor<256xf32>,
                     %gu: tensor<256x4096x7168xf8E4M3FN>, %d: tensor<256x7168x2048xf8E4M3FN>,
                     %gus: tensor<256x32x56xf32>, %ds: tensor<256x56x16xf32>,
                     %sgu: tensor<1x4096x7168xf8E4M3FN>, %sd: tensor<1x7168x2048xf8E4M3FN>,
                     %sgus: tensor<1x32x56xf32>, %sds: tensor<1x56x16xf32>) -> tensor<?x7168xbf16> {
  // CHECK: moe.layer %{{.+}} router %{{.+}} bias %{{.+}} experts %{{.+}}, %{{.+}} scales %{{.+}}, %{{.+}} shared %{{.+}}, %{{.+}} shared_scales %{{.+}}, %{{.+}} ue8m0 score sigmoid k = 8
  %y = moe.layer %x router %r bias %b experts %gu, %d scales %gus, %ds
      shared %sgu, %sd shared_scales %sgus, %sds ue8m0
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>, tensor<256x4096x7168xf8E4M3FN>,
         tensor<256x7168x2048xf8E4M3FN>, tensor<256x32x56xf32>, tensor<256x56x16xf32>,
         tensor<1x4096x7168xf8E4M3FN>, tensor<1x7168x2048xf8E4M3FN>, tensor<1x32x56xf32>,
         tensor<1x56x16xf32>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

// CHECK-LABEL: func.func @losses
func.func @losses(%s: tensor<8x256xf32>, %ids: tensor<8x8xi32>, %p: tensor<8x160xf32>,
                  %pids: tensor<8x6xi32>)
    -> (tensor<f32>, tensor<8x256xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8x160xf32>) {
  // CHECK: moe.balance_loss %{{.+}}, %{{.+}} <sequence, alpha = 1.0e-04, counts = topk, seq_len = 4> : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<f32>
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4>
      : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<f32>
  // CHECK: moe.balance_loss_grad sigmoid %{{.+}}, %{{.+}} <sequence, alpha = 1.0e-04, counts = topk, seq_len = 4> : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<8x256xf32>
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4>
      : tensor<8x256xf32>, tensor<8x8xi32> -> tensor<8x256xf32>
  // The default count source (selected) is not printed.
  // CHECK: moe.balance_loss %{{.+}}, %{{.+}} <expert, alpha = 3.0e-03> :
  %e = moe.balance_loss %p, %pids <expert, alpha = 0.003, counts = selected>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  // CHECK: moe.balance_loss %{{.+}}, %{{.+}} <device, alpha = 5.0e-02, devices = 8> :
  %d = moe.balance_loss %p, %pids <device, alpha = 0.05, devices = 8>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  // CHECK: moe.balance_loss %{{.+}}, %{{.+}} <comm, alpha = 2.0e-02, devices = 8, device_limit = 3> :
  %m = moe.balance_loss %p, %pids <comm, alpha = 0.02, devices = 8, device_limit = 3>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<f32>
  // CHECK: moe.balance_loss_grad softmax %{{.+}}, %{{.+}} <comm, alpha = 2.0e-02, devices = 8, device_limit = 3>
  %mg = moe.balance_loss_grad softmax %p, %pids <comm, alpha = 0.02, devices = 8, device_limit = 3>
      : tensor<8x160xf32>, tensor<8x6xi32> -> tensor<8x160xf32>
  return %l, %g, %e, %d, %m, %mg
      : tensor<f32>, tensor<8x256xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<8x160xf32>
}

// CHECK-LABEL: func.func @dispatch_layout
func.func @dispatch_layout(%ids: tensor<3x4xi32>)
    -> (tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>) {
  // CHECK: moe.dispatch_layout %{{.+}} topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2> : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return %pe, %pr, %pn, %in : tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
}

// CHECK-LABEL: func.func @dispatch_compute_combine
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xbf16>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[W:[^:]+]]: tensor<?x2xf32>
func.func @dispatch_compute_combine(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
    %gu: tensor<8x32x64xbf16>, %d: tensor<8x64x16xbf16>,
    %sgu: tensor<1x48x64xbf16>, %sd: tensor<1x64x24xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  // CHECK: %[[ROWS:.+]], %[[MAP:.+]], %[[OFF:.+]] = moe.permute %[[X]], %[[IDS]], %[[W]] :
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  // CHECK: moe.permute %[[X]], %[[IDS]], %[[W]] capacity_factor = 1.250000e+00 drop position :
  %rows2, %map2, %off2 = moe.permute %x, %ids, %w capacity_factor = 1.25 drop position
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  // CHECK: moe.permute %[[X]], %[[IDS]], %[[W]] capacity_factor = 1.000000e+00 :
  %rows3, %map3, %off3 = moe.permute %x, %ids, %w capacity_factor = 1.0 drop probs
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  // CHECK: %[[H:.+]] = moe.expert_ffn %[[ROWS]] offsets %[[OFF]] weights %{{.+}}, %{{.+}} :
  %h = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x64xbf16>, tensor<9xi32>, tensor<8x32x64xbf16>, tensor<8x64x16xbf16>)
        -> tensor<?x64xbf16>
  // CHECK: %[[SH:.+]] = moe.expert_ffn %[[X]] weights %{{.+}}, %{{.+}} :
  %sh = moe.expert_ffn %x weights %sgu, %sd
      : (tensor<?x64xbf16>, tensor<1x48x64xbf16>, tensor<1x64x24xbf16>) -> tensor<?x64xbf16>
  // CHECK: moe.combine %[[H]], %[[MAP]], %[[W]] shared %[[SH]] :
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  // CHECK: moe.combine %[[H]], %[[MAP]], %[[W]] :
  %y2 = moe.combine %h, %map, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xbf16>
  return %y, %y2 : tensor<?x64xbf16>, tensor<?x64xbf16>
}

// CHECK-LABEL: func.func @layer_full
func.func @layer_full(%x: tensor<?x64xbf16>, %r: tensor<32x64xbf16>, %b: tensor<32xf32>,
    %gu: tensor<32x32x64xbf16>, %d: tensor<32x64x16xbf16>,
    %sgu: tensor<1x32x64xbf16>, %sd: tensor<1x64x16xbf16>) -> (tensor<?x64xbf16>, tensor<f32>, tensor<f32>) {
  // CHECK: moe.layer %{{.+}} router %{{.+}} bias %{{.+}} experts %{{.+}}, %{{.+}} shared %{{.+}}, %{{.+}} score sigmoid k = 4 groups = 8 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.500000e+00 capacity_factor = 2.000000e+00 drop position topology <nodes = 4, gpus_per_node = 2, experts_per_gpu = 4, node_limit = 2> losses [#moe.loss<sequence, alpha = 1.0e-04, counts = topk, seq_len = 2>, #moe.loss<device, alpha = 5.0e-02, devices = 8>]
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

// CHECK-LABEL: func.func @layer_minimal
func.func @layer_minimal(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>,
    %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  // CHECK: moe.layer %{{.+}} router %{{.+}} experts %{{.+}}, %{{.+}} score softmax k = 2 : (
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>)
        -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// Router logits in the activation dtype (Qwen, Mixtral): moe.gate rounds
// its f32 sums to bf16, and moe.layer says so with `logits`.
// CHECK-LABEL: func.func @bf16_logits
func.func @bf16_logits(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>,
    %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) -> tensor<?x64xbf16> {
  // CHECK: moe.gate %{{.+}}, %{{.+}} : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
  %z = moe.gate %x, %r : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
  // CHECK: moe.score softmax %{{.+}} : tensor<?x8xbf16> -> tensor<?x8xf32>
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  // CHECK: moe.layer %{{.+}} score softmax k = 2 normalize logits = bf16 : (
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 normalize logits = bf16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// Attributes on their own, as a user would attach them to other ops.
// CHECK-LABEL: func.func @attrs
// CHECK: moe.drop_policy = #moe.drop_policy<position>
// CHECK-SAME: moe.group_score = #moe.group_score<topk_sum<3>>
// CHECK-SAME: moe.loss = #moe.loss<comm, alpha = 2.0e-02, devices = 8, device_limit = 3>
// CHECK-SAME: moe.score_func = #moe.score_func<softmax>
// CHECK-SAME: moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>
func.func @attrs() attributes {
    moe.score_func = #moe.score_func<softmax>,
    moe.drop_policy = #moe.drop_policy<position>,
    moe.group_score = #moe.group_score<topk_sum<3>>,
    moe.loss = #moe.loss<comm, alpha = 0.02, devices = 8, device_limit = 3>,
    moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>} {
  return
}
