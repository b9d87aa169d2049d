// RUN: moe-opt %s --split-input-file --moe-expand-layer | FileCheck %s
// RUN: moe-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(moe-expand-layer))" | FileCheck %s

// A DeepSeek-V3-shaped layer (scaled down): bias, groups, shared expert, the
// sequence-wise loss.
// CHECK-LABEL: func.func @v3
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x64xbf16>, %[[R:[^:]+]]: tensor<32x64xbf16>, %[[B:[^:]+]]: tensor<32xf32>,
// CHECK-SAME:  %[[GU:[^:]+]]: tensor<32x32x64xbf16>, %[[D:[^:]+]]: tensor<32x64x16xbf16>,
// CHECK-SAME:  %[[SGU:[^:]+]]: tensor<1x32x64xbf16>, %[[SD:[^:]+]]: tensor<1x64x16xbf16>)
// CHECK:      %[[Z:.+]] = moe.gate %[[X]], %[[R]] : tensor<?x64xbf16>, tensor<32x64xbf16> -> tensor<?x32xf32>
// CHECK-NEXT: %[[S:.+]] = moe.score sigmoid %[[Z]] : tensor<?x32xf32> -> tensor<?x32xf32>
// CHECK-NEXT: %[[IDS:.+]], %[[W:.+]] = moe.route %[[S]] bias %[[B]] k = 4 groups = 8 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.500000e+00
// CHECK-SAME:   : (tensor<?x32xf32>, tensor<32xf32>) -> (tensor<?x4xi32>, tensor<?x4xf32>)
// CHECK-NEXT: %[[L:.+]] = moe.balance_loss %[[S]], %[[IDS]] <sequence, alpha = 1.0e-04, counts = topk, seq_len = 2>
// CHECK-NEXT: %[[ROWS:.+]], %[[MAP:.+]], %[[OFF:.+]] = moe.permute %[[X]], %[[IDS]], %[[W]]
// CHECK-SAME:   -> (tensor<?x64xbf16>, tensor<?x4xi32>, tensor<33xi32>)
// CHECK-NEXT: %[[H:.+]] = moe.expert_ffn %[[ROWS]] offsets %[[OFF]] weights %[[GU]], %[[D]]
// CHECK-NEXT: %[[SH:.+]] = moe.expert_ffn %[[X]] weights %[[SGU]], %[[SD]]
// CHECK-SAME:   -> tensor<?x64xbf16>
// CHECK-NEXT: %[[Y:.+]] = moe.combine %[[H]], %[[MAP]], %[[W]] shared %[[SH]]
// CHECK-NEXT: return %[[Y]], %[[L]]
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

// -----

// A DeepSeek-V2-shaped layer: softmax, group max, ×16, three losses (in the
// order of the attribute), capacity with the position policy, static T.
// CHECK-LABEL: func.func @v2
// CHECK: %[[S:.+]] = moe.score softmax
// CHECK: %[[IDS:.+]], %[[W:.+]] = moe.route %[[S]] k = 6 groups = 8 group_topk = 3 scale = 1.600000e+01 {moe.topology = #moe.topology<nodes = 1, gpus_per_node = 8, experts_per_gpu = 20>} : (tensor<8x160xf32>) -> (tensor<8x6xi32>, tensor<8x6xf32>)
// CHECK: %[[L1:.+]] = moe.balance_loss %[[S]], %[[IDS]] <expert, alpha = 3.0e-03>
// CHECK: %[[L2:.+]] = moe.balance_loss %[[S]], %[[IDS]] <device, alpha = 5.0e-02, devices = 8>
// CHECK: %[[L3:.+]] = moe.balance_loss %[[S]], %[[IDS]] <comm, alpha = 2.0e-02, devices = 8, device_limit = 3>
// CHECK: moe.permute %{{.+}}, %[[IDS]], %[[W]] capacity_factor = 1.000000e+00 drop position
// CHECK-SAME: -> (tensor<48x32xf32>, tensor<8x6xi32>, tensor<161xi32>)
// CHECK: %[[Y:.+]] = moe.combine
// CHECK-NOT: shared
// CHECK: return %[[Y]], %[[L1]], %[[L2]], %[[L3]]
func.func @v2(%x: tensor<8x32xf32>, %r: tensor<160x32xf32>,
              %gu: tensor<160x16x32xf32>, %d: tensor<160x32x8xf32>)
    -> (tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %y, %l1, %l2, %l3 = moe.layer %x router %r experts %gu, %d
      score softmax k = 6 groups = 8 group_topk = 3 scale = 16.0
      capacity_factor = 1.0 drop position
      topology <nodes = 1, gpus_per_node = 8, experts_per_gpu = 20>
      losses [#moe.loss<expert, alpha = 0.003>,
              #moe.loss<device, alpha = 0.05, devices = 8>,
              #moe.loss<comm, alpha = 0.02, devices = 8, device_limit = 3>]
      : (tensor<8x32xf32>, tensor<160x32xf32>, tensor<160x16x32xf32>, tensor<160x32x8xf32>)
        -> (tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>)
  return %y, %l1, %l2, %l3 : tensor<8x32xf32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Layers nested in other ops and several layers in one function expand too.
// CHECK-LABEL: func.func @two_layers
// CHECK-NOT: moe.layer
// CHECK-COUNT-2: moe.combine
// CHECK-NOT: moe.layer
func.func @two_layers(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                      %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  %z = moe.layer %y router %r experts %gu, %d score sigmoid k = 1
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}

// -----

// DeepSeek-V3's FP8 layer: routing from the bf16 input as above; x is
// quantised once (ue8m0 as the layer says) for the routed and the shared
// experts, the e4m3 rows travel with their scales, the FFNs are block-scaled
// and write bf16, the combine is unchanged.
// CHECK-LABEL: func.func @fp8
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x256xbf16>, %[[R:[^:]+]]: tensor<8x256xbf16>,
// CHECK-SAME:  %[[GU:[^:]+]]: tensor<8x256x256xf8E4M3FN>, %[[D:[^:]+]]: tensor<8x256x128xf8E4M3FN>,
// CHECK-SAME:  %[[GUS:[^:]+]]: tensor<8x2x2xf32>, %[[DS:[^:]+]]: tensor<8x2x1xf32>,
// CHECK-SAME:  %[[SGU:[^:]+]]: tensor<1x256x256xf8E4M3FN>, %[[SD:[^:]+]]: tensor<1x256x128xf8E4M3FN>,
// CHECK-SAME:  %[[SGUS:[^:]+]]: tensor<1x2x2xf32>, %[[SDS:[^:]+]]: tensor<1x2x1xf32>)
// CHECK:      %[[Z:.+]] = moe.gate %[[X]], %[[R]] : tensor<?x256xbf16>, tensor<8x256xbf16> -> tensor<?x8xf32>
// CHECK-NEXT: %[[S:.+]] = moe.score sigmoid %[[Z]]
// CHECK-NEXT: %[[IDS:.+]], %[[W:.+]] = moe.route %[[S]] k = 2 normalize
// CHECK-NEXT: %[[Q:.+]], %[[QS:.+]] = moe.quantize %[[X]] group = 128 ue8m0 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
// CHECK-NEXT: %[[ROWS:.+]], %[[MAP:.+]], %[[OFF:.+]], %[[RS:.+]] = moe.permute %[[Q]] scales %[[QS]], %[[IDS]], %[[W]]
// CHECK-SAME:   -> (tensor<?x256xf8E4M3FN>, tensor<?x2xi32>, tensor<9xi32>, tensor<?x2xf32>)
// CHECK-NEXT: %[[H:.+]] = moe.expert_ffn %[[ROWS]] scales %[[RS]] offsets %[[OFF]] weights %[[GU]], %[[D]] scales %[[GUS]], %[[DS]] ue8m0
// CHECK-SAME:   -> tensor<?x256xbf16>
// CHECK-NEXT: %[[SH:.+]] = moe.expert_ffn %[[Q]] scales %[[QS]] weights %[[SGU]], %[[SD]] scales %[[SGUS]], %[[SDS]] ue8m0
// CHECK-SAME:   -> tensor<?x256xbf16>
// CHECK-NEXT: %[[Y:.+]] = moe.combine %[[H]], %[[MAP]], %[[W]] shared %[[SH]]
// CHECK-NEXT: return %[[Y]]
func.func @fp8(%x: tensor<?x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>,
               %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>,
               %sgu: tensor<1x256x256xf8E4M3FN>, %sd: tensor<1x256x128xf8E4M3FN>,
               %sgus: tensor<1x2x2xf32>, %sds: tensor<1x2x1xf32>) -> tensor<?x256xbf16> {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd
      shared_scales %sgus, %sds ue8m0 score sigmoid k = 2 normalize
      : (tensor<?x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>,
         tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xf8E4M3FN>, tensor<1x256x128xf8E4M3FN>,
         tensor<1x2x2xf32>, tensor<1x2x1xf32>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

// -----

// Router logits in bf16 (Qwen, Mixtral): the gate's result is bf16 and the
// score reads it.
// CHECK-LABEL: func.func @bf16_logits
// CHECK: %[[Z:.+]] = moe.gate %{{.+}}, %{{.+}} : tensor<?x64xbf16>, tensor<8x64xbf16> -> tensor<?x8xbf16>
// CHECK: moe.score softmax %[[Z]] : tensor<?x8xbf16> -> tensor<?x8xf32>
// CHECK: moe.route %{{.+}} k = 2 normalize
func.func @bf16_logits(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>,
                       %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) -> tensor<?x64xbf16> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 normalize logits = bf16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
