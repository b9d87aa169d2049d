// RUN: moe-opt %s --split-input-file --moe-fuse-routing | FileCheck %s

// score -> route -> counts: one op reading the logits.
// CHECK-LABEL: func.func @v3
// CHECK-SAME: (%[[Z:[^:]+]]: tensor<?x256xf32>, %[[B:[^:]+]]: tensor<256xf32>)
// CHECK-NEXT: %[[IDS:.+]], %[[W:.+]], %[[C:.+]] = moe.fused_route score sigmoid %[[Z]] bias %[[B]] k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.500000e+00
// CHECK-SAME: : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>)
// CHECK-NEXT: return %[[IDS]], %[[W]], %[[C]]
func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

// -----

// Without counts the fused op has two results; bf16 logits stay bf16.
// CHECK-LABEL: func.func @v2
// CHECK-NEXT: moe.fused_route score softmax %{{.+}} k = 6 groups = 8 group_topk = 3 scale = 1.600000e+01 : (tensor<?x160xbf16>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
func.func @v2(%z: tensor<?x160xbf16>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x160xbf16> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}

// -----

// Scores that something else reads stay; the route reads them.
// CHECK-LABEL: func.func @shared_scores
// CHECK: %[[S:.+]] = moe.score sigmoid
// CHECK: moe.fused_route %[[S]] k = 2 :
// CHECK: moe.balance_loss %[[S]]
func.func @shared_scores(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<f32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %ids, %l : tensor<?x2xi32>, tensor<f32>
}

// -----

// Counts over a different number of experts are not the route's loads.
// CHECK-LABEL: func.func @other_counts
// CHECK: moe.fused_route score sigmoid %{{.+}} k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
// CHECK: moe.expert_counts
func.func @other_counts(%z: tensor<?x8xf32>) -> tensor<16xi32> {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %c = moe.expert_counts %ids : tensor<?x2xi32> -> tensor<16xi32>
  return %c : tensor<16xi32>
}
