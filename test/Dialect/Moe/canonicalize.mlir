// RUN: moe-opt %s --split-input-file --canonicalize | FileCheck %s

// A constant zero bias selects exactly like no bias.
// CHECK-LABEL: func.func @zero_bias
// CHECK-NOT: arith.constant
// CHECK: moe.route %{{[^ ]+}} k = 2 groups = 2 normalize : (tensor<4x8xf32>)
func.func @zero_bias(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %b = arith.constant dense<0.0> : tensor<8xf32>
  %ids, %w = moe.route %s bias %b k = 2 groups = 2 group_topk = 1 normalize
      : (tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

// Negative zero is zero too.
// CHECK-LABEL: func.func @negative_zero_bias
// CHECK: moe.route %{{[^ ]+}} k = 2 :
func.func @negative_zero_bias(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %b = arith.constant dense<-0.0> : tensor<8xf32>
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

// A non-zero constant bias stays.
// CHECK-LABEL: func.func @nonzero_bias
// CHECK: %[[B:.+]] = arith.constant dense<[0.000000e+00, 1.000000e-01
// CHECK: moe.route %{{[^ ]+}} bias %[[B]] k = 2 :
func.func @nonzero_bias(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %b = arith.constant dense<[0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]> : tensor<8xf32>
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

// Keeping every group is no group limit; scale 1.0 is the default and is
// not printed.
// CHECK-LABEL: func.func @all_groups_kept
// CHECK: moe.route %{{[^ ]+}} k = 2 normalize :
func.func @all_groups_kept(%s: tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {
  %ids, %w = moe.route %s k = 2 groups = 4 group_topk = 4 group_score = topk_sum<2> normalize scale = 1.0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids, %w : tensor<4x2xi32>, tensor<4x2xf32>
}

// -----

// The same on a layer, with a zero bias.
// CHECK-LABEL: func.func @layer
// CHECK: moe.layer %{{[^ ]+}} router %{{[^ ]+}} experts %{{[^ ]+}}, %{{[^ ]+}} score sigmoid k = 2 normalize :
func.func @layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                 %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %b = arith.constant dense<0.0> : tensor<8xf32>
  %y = moe.layer %x router %r bias %b experts %gu, %d score sigmoid k = 2 groups = 2 group_topk = 2 normalize
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>)
        -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A loss with alpha = 0 is switched off: it folds to a zero constant, and
// so does its gradient.
// CHECK-LABEL: func.func @zero_alpha
// CHECK-DAG: %[[L:.+]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[G:.+]] = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK-NOT: moe.balance_loss
// CHECK: return %[[L]], %[[G]]
func.func @zero_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) -> (tensor<f32>, tensor<4x8xf32>) {
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  %g = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<4x8xf32>
  return %l, %g : tensor<f32>, tensor<4x8xf32>
}

// -----

// The gradient of a dynamic batch cannot become a constant.
// CHECK-LABEL: func.func @zero_alpha_dynamic
// CHECK: moe.balance_loss_grad
func.func @zero_alpha_dynamic(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<?x8xf32> {
  %g = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.0> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<?x8xf32>
  return %g : tensor<?x8xf32>
}

// -----

// A non-zero loss stays.
// CHECK-LABEL: func.func @nonzero_alpha
// CHECK: moe.balance_loss
func.func @nonzero_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) -> tensor<f32> {
  %l = moe.balance_loss %s, %ids <expert, alpha = 1.0e-3> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A bias update with rate 0 (DeepSeek-V3's last 500B tokens) is the bias.
// CHECK-LABEL: func.func @zero_rate
// CHECK-SAME: (%[[B:[^:]+]]: tensor<8xf32>
// CHECK-NEXT: return %[[B]]
func.func @zero_rate(%b: tensor<8xf32>, %c: tensor<8xi32>) -> tensor<8xf32> {
  %b2 = moe.bias_update %b, %c rate = 0.0 : tensor<8xf32>, tensor<8xi32>
  return %b2 : tensor<8xf32>
}

