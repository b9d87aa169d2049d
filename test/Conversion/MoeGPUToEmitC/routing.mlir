// RUN: moe-opt %s --moe-lower-to-cuda | FileCheck %s

// The routing kernel: every routing constant a template argument of a
// RouteSpec (bf16... logits, E, k, groups, group_topk, the group-score count,
// the score function, normalisation, bias, counts, the statistics), a
// kernel per op, routePrepare (argument checks, zeroed counts, the grid of
// the grid policy) and a triple-chevron launch with the scale.
// CHECK: verbatim "using v3_k0_spec = moe::cuda::RouteSpec<float, 256, 8, 8, 4, 2, moe::cuda::ScoreFunc::Sigmoid, true, true, true, moe::cuda::NoStats>;"
// CHECK: emitc.func @v3_k0({{.*}}) attributes {specifiers = ["static", "__global__", "__launch_bounds__(v3_k0_spec::BlockSize, v3_k0_spec::MinBlocks)"]}
// CHECK-NEXT: call_opaque "moe::cuda::routeKernelBody"
// CHECK-LABEL: emitc.func @v3(
// CHECK: %[[SCALE:.+]] = "emitc.constant"() <{value = 2.500000e+00 : f32}>
// CHECK: call_opaque "moe::cuda::routePrepare"(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %{{.+}}) {args = [#emitc.opaque<"reinterpret_cast<const void*>(v3_k0)">, 0 : index, 1 : index, 2 : index, 3 : index, 4 : index, 5 : index, 6 : index, #emitc.opaque<"true">, 7 : index, #emitc.opaque<"nullptr">], template_args = [#emitc.opaque<"v3_k0_spec">]}
// CHECK: verbatim "if ({} > 0) v3_k0<<<{}, v3_k0_spec::BlockSize, 0, {}>>>({}, {}, {}, {}, {}, {}, {}, nullptr);" args %[[G:.+]], %[[G]], %arg6, %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %[[SCALE]]
// CHECK: call_opaque "cudaGetLastError"
func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

// A training step: the routing kernel with LossStats (normalised q, top-k
// counts, no devices, chunks of 64), the loss kernels of each reduction
// (per sequence, then the mean), the gradient over the logits (a warp per
// token, its grid persistent), the one-block bias update.
// CHECK: verbatim "using v3_train_k0_spec = moe::cuda::RouteSpec<float, 256, 8, 8, 4, 2, moe::cuda::ScoreFunc::Sigmoid, true, true, true, moe::cuda::LossStats<true, true, 0, 64>>;"
// CHECK: verbatim "using v3_train_k1_spec = moe::cuda::LossSpec<moe::cuda::LossKind::Sequence, 256, 8, 512, 64, 4096, 0, 0>;"
// CHECK: emitc.func @v3_train_k1_seq(
// CHECK-NEXT: call_opaque "moe::cuda::lossSequenceBody"
// CHECK: emitc.func @v3_train_k1_mean(
// CHECK-NEXT: call_opaque "moe::cuda::lossMeanBody"
// CHECK: verbatim "using v3_train_k2_spec = moe::cuda::RouteSpec<float, 256, 1, 1, 1, 1, moe::cuda::ScoreFunc::Sigmoid, false, false, false>;"
// CHECK: verbatim "using v3_train_k2_loss = moe::cuda::LossSpec<moe::cuda::LossKind::Sequence, 256, 1, 512, 1, 4096, 0, 0>;"
// CHECK: emitc.func @v3_train_k2(
// CHECK-NEXT: call_opaque "moe::cuda::lossGradBody"{{.*}}template_args = [#emitc.opaque<"v3_train_k2_spec">, #emitc.opaque<"v3_train_k2_loss">]
// CHECK: emitc.func @v3_train_k3({{.*}}) attributes {specifiers = ["static", "__global__", "__launch_bounds__(256)"]}
// CHECK-NEXT: call_opaque "moe::cuda::biasUpdateBody"{{.*}}template_args = [#emitc.opaque<"256">]
// CHECK-LABEL: emitc.func @v3_train(
// CHECK: call_opaque "moe::cuda::checkLoss"(%[[T:.+]]) {template_args = [#emitc.opaque<"v3_train_k1_spec">]}
// CHECK: verbatim "if (moe::cuda::numSequences<v3_train_k1_spec>({}) > 0) v3_train_k1_seq<<<moe::cuda::numSequences<v3_train_k1_spec>({}), v3_train_k1_spec::BlockSize, 0, {}>>>({}, {}, {}, {}, {});"
// CHECK: verbatim "v3_train_k1_mean<<<1, v3_train_k1_spec::BlockSize, 0, {}>>>({}, {}, {});" args %{{.+}}, %{{.+}}, %[[T]], %arg3
// CHECK: call_opaque "moe::cuda::divUp"(%[[T]]) {args = [0 : index, #emitc.opaque<"v3_train_k2_spec::WarpsPerBlock">]}
// CHECK: call_opaque "moe::cuda::sizeGrid"{{.*}}#emitc.opaque<"reinterpret_cast<const void*>(v3_train_k2)">, #emitc.opaque<"v3_train_k2_spec::BlockSize">, 0 : index, #emitc.opaque<"true">
// CHECK: verbatim "v3_train_k3<<<1, 256, 0, {}>>>({}, {}, {}, {});" args %{{.+}}, %arg1, %{{.+}}, %{{.+}}, %arg5
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
