// Verifier diagnostics come through the plugin unchanged.
// RUN: mlir-opt %s --load-dialect-plugin=%moe_libs/MoePlugin%shlibext --split-input-file --verify-diagnostics

func.func @route(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'group_topk' (3) must be in [1, groups = 2]}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 3
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}
