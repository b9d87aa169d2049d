// RUN: moe-opt %s --convert-moe-to-emitc | FileCheck %s

// A permute feeding a combine in one launcher: the rows, row map and offsets
// pass through the workspace, then come the permute's scratch buffers
// (local ranks, block counts, totals, row tokens; no segments for the
// position policy).
// CHECK: emitc.include "moe/Runtime/cuda/Dispatch.cuh"
// CHECK-LABEL: emitc.func @roundtrip_workspace_size(
// CHECK: moe_total += moe::cuda::wsBytes((moe_T * 2) * 64);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(moe_T * 8);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(17 * 4);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes((moe_T * 2) * 4);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(moe::cuda::divUp((moe_T * 2), 512) * 64);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(1 * 68);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes((moe_T * 2) * 4);
// CHECK-NEXT: static_cast<size_t>(moe_total)
// CHECK: emitc.verbatim "using roundtrip_k0_spec = moe::cuda::PermuteSpec<float, 16, 2, 16, moe::cuda::DropPolicy::Position>;"
// CHECK: emitc.func @roundtrip_k0_rank(
// CHECK: call_opaque "moe::cuda::permuteRankBody"
// CHECK-SAME: template_args = [#emitc.opaque<"roundtrip_k0_spec">]
// CHECK-NOT: roundtrip_k0_select
// CHECK: emitc.verbatim "using roundtrip_k1_spec = moe::cuda::CombineSpec<float, 2, 16, false>;"
// CHECK-LABEL: emitc.func @roundtrip(
// CHECK-SAME: void
// CHECK: call_opaque "moe::cuda::checkPermute"
// CHECK: "emitc.constant"() <{value = 5.000000e-01 : f32}>
// CHECK: verbatim "const int64_t roundtrip_k1_rows = (moe_T * 2);"
// CHECK: call_opaque "moe::cuda::checkCombine"
func.func @roundtrip(%x: tensor<?x16xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x16xf32> {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 0.5 drop position
      : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x16xf32>, tensor<?x2xi32>, tensor<17xi32>)
  %y = moe.combine %rows, %map, %w : (tensor<?x16xf32>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// A static batch: the token count is checked, the rows are static.
// CHECK-LABEL: emitc.func @static_combine(
// CHECK: if (moe_T != 4) return cudaErrorInvalidValue;
// CHECK: verbatim "const int64_t static_combine_k0_rows = 12;"
func.func @static_combine(%h: tensor<12x8xbf16>, %map: tensor<4x3xi32>, %w: tensor<4x3xf32>, %sh: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<12x8xbf16>, tensor<4x3xi32>, tensor<4x3xf32>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}
