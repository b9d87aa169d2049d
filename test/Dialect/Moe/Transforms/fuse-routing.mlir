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
// CHECK: return %{{.+}}, %[[S]]
func.func @shared_scores(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x8xf32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %s : tensor<?x2xi32>, tensor<?x8xf32>
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

// -----

// A V3 training step: the loss and its gradient read the statistics of the
// routing pass; the gradient reads the logits once more.
// CHECK-LABEL: func.func @v3_train
// CHECK-SAME: (%[[Z:[^:]+]]: tensor<?x256xf32>, %[[B:[^:]+]]: tensor<256xf32>)
// CHECK: %[[IDS:.+]], %[[W:.+]], %[[C:.+]], %[[ST:.+]] = moe.fused_route_stats score sigmoid %[[Z]] bias %[[B]] k = 8
// CHECK-SAME: stats <sequence, alpha = 0.0e+00, counts = topk, seq_len = 4096> chunk = 64
// CHECK-SAME: -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>, tensor<?x512xf32>)
// CHECK: %[[L:.+]], %{{.+}} = moe.loss_from_stats %[[ST]] <sequence, alpha = 1.0e-04, counts = topk, seq_len = 4096> k = 8 chunk = 64
// CHECK: %{{.+}}, %[[G:.+]] = moe.loss_from_stats %[[ST]]
// CHECK: %[[GRAD:.+]] = moe.fused_loss_grad sigmoid %[[Z]], %[[G]] <sequence
// CHECK: %[[NB:.+]] = moe.bias_update %[[B]], %[[C]]
// CHECK: return %[[IDS]], %[[L]], %[[GRAD]], %[[NB]]
// CHECK-NOT: moe.score
func.func @v3_train(%z: tensor<?x256xf32>, %b: tensor<256xf32>)
    -> (tensor<?x8xi32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  %nb = moe.bias_update %b, %c rate = 1.0e-3 : tensor<256xf32>, tensor<256xi32>
  return %ids, %l, %g, %nb : tensor<?x8xi32>, tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}

// -----

// V2's three losses share one set of statistics with the device columns; a
// sequence length of 100 gives chunks of gcd(100, 64) = 4 tokens.
// CHECK-LABEL: func.func @v2_losses
// CHECK: moe.fused_route_stats score softmax
// CHECK-SAME: stats <device, alpha = 0.0e+00, seq_len = 100, devices = 8> chunk = 4
// CHECK-SAME: tensor<?x328xf32>
// CHECK-COUNT-3: moe.loss_from_stats
func.func @v2_losses(%z: tensor<?x160xf32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  return %l1, %l2, %l3 : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Losses that need different statistics (normalised and raw q) do not fuse:
// the route fuses on its own, reading the scores.
// CHECK-LABEL: func.func @incompatible
// CHECK: %[[S:.+]] = moe.score sigmoid
// CHECK: moe.fused_route %[[S]]
// CHECK-COUNT-2: moe.balance_loss %[[S]]
func.func @incompatible(%z: tensor<?x8xf32>) -> (tensor<f32>, tensor<f32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %l1 = moe.balance_loss %s, %ids <sequence, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <expert, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l1, %l2 : tensor<f32>, tensor<f32>
}
