// RUN: moe-opt %s --split-input-file --moe-fuse-routing --convert-moe-to-emitc | FileCheck %s

// CHECK: emitc.include <"cuda_runtime.h">
// CHECK: emitc.include "moe/Runtime/cuda/Loss.cuh"
// The routing constants are compile-time constants of the kernel.
// CHECK: emitc.verbatim "using v3_k0_spec = moe::cuda::RouteSpec<float, 256, 8, 8, 4, 2, moe::cuda::ScoreFunc::Sigmoid, true, true, true, moe::cuda::NoStats>;"
// CHECK-LABEL: emitc.func @v3_k0(
// CHECK-SAME: specifiers = ["static", "__global__", "__launch_bounds__(v3_k0_spec::BlockSize, v3_k0_spec::MinBlocks)"]
// CHECK: {{(emitc\.)?}}call_opaque "moe::cuda::routeKernelBody"
// CHECK-SAME: template_args = [#emitc.opaque<"v3_k0_spec">]
// The launcher: inputs, outputs, num_tokens, stream; returns cudaError_t.
// CHECK-LABEL: emitc.func @v3(
// CHECK-SAME: %[[Z:[^:]+]]: !emitc.ptr<!emitc.opaque<"const float">>, %[[B:[^:]+]]: !emitc.ptr<!emitc.opaque<"const float">>,
// CHECK-SAME: %[[IDS:[^:]+]]: !emitc.ptr<!emitc.opaque<"int32_t">>, %[[W:[^:]+]]: !emitc.ptr<!emitc.opaque<"float">>, %[[C:[^:]+]]: !emitc.ptr<!emitc.opaque<"int32_t">>,
// CHECK-SAME: %[[T:[^:]+]]: i64, %[[S:[^:]+]]: !emitc.opaque<"cudaStream_t">) -> !emitc.opaque<"cudaError_t">
// CHECK-SAME: moe.arg_names = ["logits", "bias", "ids", "weights", "counts", "num_tokens", "stream"]
// CHECK-SAME: specifiers = ["extern \22C\22"]
// CHECK: {{(emitc\.)?}}verbatim "const int64_t moe_T = {};" args %[[T]]
// CHECK: {{(emitc\.)?}}verbatim "if (moe_T < 0) return cudaErrorInvalidValue;"
// CHECK: {{(emitc\.)?}}call_opaque "moe::cuda::routePrepare"(%[[Z]], %[[B]], %[[IDS]], %[[W]], %[[C]], %[[T]], %[[S]], %{{.+}})
// CHECK: {{(emitc\.)?}}verbatim "if ({} > 0) v3_k0<<<{}, v3_k0_spec::BlockSize, 0, {}>>>({}, {}, {}, {}, {}, {}, {}, nullptr);"
// CHECK: {{(emitc\.)?}}call_opaque "cudaGetLastError"
// CHECK: {{(emitc\.)?}}literal "cudaSuccess"
// CHECK-NOT: func.func
func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

// -----

// No bias, no counts: nullptr in their places; a static token count is
// checked at run time.
// CHECK: "using lite_k0_spec = moe::cuda::RouteSpec<__nv_bfloat16, 64, 6, 1, 1, 1, moe::cuda::ScoreFunc::Softmax, false, false, false, moe::cuda::NoStats>;"
// CHECK-LABEL: emitc.func @lite(
// CHECK-SAME: !emitc.ptr<!emitc.opaque<"const __nv_bfloat16">>
// CHECK: "if (moe_T != 128) return cudaErrorInvalidValue;"
// CHECK: call_opaque "moe::cuda::routePrepare"
// CHECK-SAME: args = [#emitc.opaque<"reinterpret_cast<const void*>(lite_k0)">, 0 : index, #emitc.opaque<"nullptr">, 1 : index, 2 : index, #emitc.opaque<"nullptr">
// CHECK: "if ({} > 0) lite_k0<<<{}, lite_k0_spec::BlockSize, 0, {}>>>({}, nullptr, {}, {}, nullptr, {}, {}, nullptr);"
func.func @lite(%z: tensor<128x64xbf16>) -> (tensor<128x6xi32>, tensor<128x6xf32>) {
  %s = moe.score softmax %z : tensor<128x64xbf16> -> tensor<128x64xf32>
  %ids, %w = moe.route %s k = 6 : (tensor<128x64xf32>) -> (tensor<128x6xi32>, tensor<128x6xf32>)
  return %ids, %w : tensor<128x6xi32>, tensor<128x6xf32>
}

// -----

// Routing on given scores: no score function in the kernel.
// CHECK: RouteSpec<float, 384, 8, 1, 1, 1, moe::cuda::ScoreFunc::None, true, false, false, moe::cuda::NoStats>
// CHECK: moe.arg_names = ["scores", "ids", "weights", "num_tokens", "stream"]
func.func @scores(%s: tensor<?x384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %ids, %w = moe.route %s k = 8 normalize : (tensor<?x384xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

// Results that are not returned live in the workspace: the launcher takes
// one and a size query comes with it.
// CHECK-LABEL: emitc.func @ids_only_workspace_size(
// CHECK-SAME: moe.arg_names = ["num_tokens"]
// CHECK: "moe_total += moe::cuda::wsBytes(moe_T * 8);"
// CHECK-LABEL: emitc.func @ids_only(
// CHECK-SAME: moe.arg_names = ["logits", "ids", "workspace", "num_tokens", "stream"]
// CHECK: "if ({} == nullptr && ids_only_workspace_size(moe_T) > 0) return cudaErrorInvalidValue;"
// CHECK: "float* moe_buf0 = reinterpret_cast<float*>(moe_ws + moe_off);"
func.func @ids_only(%z: tensor<?x64xf32>) -> tensor<?x2xi32> {
  %s = moe.score sigmoid %z : tensor<?x64xf32> -> tensor<?x64xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x64xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids : tensor<?x2xi32>
}
