// RUN: moe-opt %s --moe-lower-to-cuda | FileCheck %s

// Results no kernel computes (CopyToEmitC.cpp): an input returned as it is
// (moe.bias_update with rate = 0 folds to its bias) and a value returned
// twice are copied on the stream, device to device; the zeros of a loss
// with alpha = 0 are cleared with cudaMemsetAsync. Bytes are rows times the
// row's bytes, rows following num_tokens where the output's do.
// CHECK-LABEL: emitc.func @step(
// CHECK-SAME: %[[Z:[^:]+]]: !emitc.ptr<!emitc.opaque<"const float">>
// CHECK-SAME: %[[B:[^:]+]]: !emitc.ptr<!emitc.opaque<"const float">>
// CHECK-SAME: %[[IDS:[^:]+]]: !emitc.ptr<!emitc.opaque<"int32_t">>
// CHECK-SAME: %[[NB:[^:]+]]: !emitc.ptr<!emitc.opaque<"float">> {moegpu.param = #moegpu.param<output, "result1", type = memref<64xf32>>}
// CHECK-SAME: %[[L:[^:]+]]: !emitc.ptr<!emitc.opaque<"float">> {moegpu.param = #moegpu.param<output, "result2", type = memref<f32>>}
// CHECK-SAME: %[[IDS2:[^:]+]]: !emitc.ptr<!emitc.opaque<"int32_t">> {moegpu.param = #moegpu.param<output, "ids1", rows = affine_map<()[s0] -> (s0)>, type = memref<?x6xi32>>}
// CHECK-SAME: %[[T:[^:]+]]: i64
// CHECK-SAME: %[[S:[^:]+]]: !emitc.opaque<"cudaStream_t">
// CHECK: call_opaque "moe::cuda::routePrepare"
// CHECK: %[[NBYTES:.+]] = mul %{{.+}}, %{{.+}} : (i64, i64) -> i64
// CHECK: %[[E1:.+]] = call_opaque "cudaMemcpyAsync"(%[[NB]], %[[B]], %[[NBYTES]], %[[S]]) {args = [0 : index, 1 : index, 2 : index, #emitc.opaque<"cudaMemcpyDeviceToDevice">, 3 : index]}
// CHECK: verbatim "if ({} != cudaSuccess) return {};" args %[[E1]], %[[E1]]
// CHECK: %[[LBYTES:.+]] = mul %{{.+}}, %{{.+}} : (i64, i64) -> i64
// CHECK: %[[E2:.+]] = call_opaque "cudaMemsetAsync"(%[[L]], %[[LBYTES]], %[[S]]) {args = [0 : index, #emitc.opaque<"0">, 1 : index, 2 : index]}
// CHECK: %[[ROW:.+]] = literal "24" : i64
// CHECK: %[[DBYTES:.+]] = mul %[[T]], %[[ROW]] : (i64, i64) -> i64
// CHECK: call_opaque "cudaMemcpyAsync"(%[[IDS2]], %[[IDS]], %[[DBYTES]], %[[S]])
// CHECK: return
func.func @step(%z: tensor<?x64xf32>, %b: tensor<64xf32>)
    -> (tensor<?x6xi32>, tensor<64xf32>, tensor<f32>, tensor<?x6xi32>) {
  %s = moe.score sigmoid %z : tensor<?x64xf32> -> tensor<?x64xf32>
  %ids, %w = moe.route %s bias %b k = 6 groups = 8 group_topk = 4
      : (tensor<?x64xf32>, tensor<64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %c = moe.expert_counts %ids : tensor<?x6xi32> -> tensor<64xi32>
  %nb = moe.bias_update %b, %c rate = 0.0 : tensor<64xf32>, tensor<64xi32>
  %l = moe.balance_loss %s, %ids <sequence, alpha = 0.0, counts = topk, seq_len = 64>
      : tensor<?x64xf32>, tensor<?x6xi32> -> tensor<f32>
  return %ids, %nb, %l, %ids : tensor<?x6xi32>, tensor<64xf32>, tensor<f32>, tensor<?x6xi32>
}
