// RUN: moe-opt %s --convert-moe-to-emitc | FileCheck %s

// The router GEMM: one "expert" with f32 outputs; its row tiles are the
// only scratch.
// CHECK-LABEL: emitc.func @gate_workspace_size(
// CHECK: moe_total += moe::cuda::wsBytes((moe::cuda::divUp(moe_T, 128) + 1) * 16);
// CHECK-NEXT: static_cast<size_t>(moe_total)
// CHECK: emitc.verbatim "using gate_k0_spec = moe::cuda::GemmSpec<__nv_bfloat16, float, 1, 64, 128, false>;"
// CHECK: emitc.func @gate_k0_tiles(
// CHECK: call_opaque "moe::cuda::rowTilesBody"
// CHECK-LABEL: emitc.func @gate(
// CHECK: %[[NONE:.*]] = literal "nullptr"
// CHECK: verbatim "moe::cuda::GemmPlan gate_k0_plan;"
// CHECK: call_opaque "moe::cuda::planGemms"() {args = [#emitc.opaque<"&gate_k0_plan">], template_args = [#emitc.opaque<"gate_k0_spec">]}
// CHECK: %[[ROWTILE:.*]] = literal "gate_k0_plan.rowTile" : i32
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}, %[[NONE]], {{.*}}, %[[ROWTILE]]) {args = [#emitc.opaque<"gate_k0_tiles">
// Rows in order: A has as many rows as the GEMM and no row map.
// CHECK: %[[NOSPLIT:.*]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"float">>
// CHECK: %[[NOMAP:.*]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"const int32_t">>
// 64 experts are not a whole 256-column tile of the wgmma kernel: no
// partial sums to split K into.
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"(%[[ROWS:.*]], %arg0, %[[ROWS]], %[[NOMAP]], %arg1, %{{.*}}, %arg2, %[[NOSPLIT]], %arg5) {args = [#emitc.opaque<"gate_k0">, #emitc.opaque<"gate_k0_plan">, 0 : index, 1 : index, 2 : index, 3 : index, 4 : index, 5 : index, 6 : index, 7 : index, 8 : index], template_args = [#emitc.opaque<"gate_k0_spec">]}
func.func @gate(%x: tensor<?x128xbf16>, %w: tensor<64x128xbf16>) -> tensor<?x64xf32> {
  %z = moe.gate %x, %w : tensor<?x128xbf16>, tensor<64x128xbf16> -> tensor<?x64xf32>
  return %z : tensor<?x64xf32>
}

// A shared expert (no offsets): all rows are expert 0's, nothing to zero;
// the workspace holds the row tiles and h [T, 64].
// CHECK-LABEL: emitc.func @shared_workspace_size(
// CHECK: moe_total += moe::cuda::wsBytes((moe::cuda::divUp(moe_T, 128) + 1) * 16);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(moe_T * 128);
// CHECK: GemmSpec<__nv_bfloat16, __nv_bfloat16, 1, 64, 128, true>
// CHECK: GemmSpec<__nv_bfloat16, __nv_bfloat16, 1, 128, 64, false>
// CHECK-NOT: shared_k0_zero
// CHECK-LABEL: emitc.func @shared(
// Both GEMMs share one plan and one tile map.
// CHECK: call_opaque "moe::cuda::planGemms"() {args = [#emitc.opaque<"&shared_k0_plan">], template_args = [#emitc.opaque<"shared_k0_up_spec">, #emitc.opaque<"shared_k0_down_spec">]}
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"{{.*}}#emitc.opaque<"shared_k0_up">, #emitc.opaque<"shared_k0_plan">
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"{{.*}}#emitc.opaque<"shared_k0_down">, #emitc.opaque<"shared_k0_plan">
func.func @shared(%x: tensor<?x128xbf16>, %gu: tensor<1x128x128xbf16>, %d: tensor<1x128x64xbf16>) -> tensor<?x128xbf16> {
  %y = moe.expert_ffn %x weights %gu, %d
      : (tensor<?x128xbf16>, tensor<1x128x128xbf16>, tensor<1x128x64xbf16>) -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}

// Routed experts: the offsets feed the tile map and the zeroing of the rows
// no expert owns.
// CHECK-LABEL: emitc.func @routed(
// CHECK: verbatim "const int64_t routed_k0_rows = moe_T;"
// CHECK: call_opaque "moe::cuda::launchChained"(%{{.*}}, %{{.*}}, %arg1, {{.*}}) {args = [#emitc.opaque<"routed_k0_tiles">
// CHECK: call_opaque "moe::cuda::launchChained"(%{{.*}}, %{{.*}}, %arg1, {{.*}}) {args = [#emitc.opaque<"routed_k0_zero">
func.func @routed(%rows: tensor<?x128xbf16>, %off: tensor<9xi32>, %gu: tensor<8x128x128xbf16>, %d: tensor<8x128x64xbf16>) -> tensor<?x128xbf16> {
  %y = moe.expert_ffn %rows offsets %off weights %gu, %d
      : (tensor<?x128xbf16>, tensor<9xi32>, tensor<8x128x128xbf16>, tensor<8x128x64xbf16>) -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}

// A router of 256 experts and a shared expert in whole wgmma tiles: f32
// partial sums whose size follows the split count (gemmSplits) of the rows;
// the shared expert's two GEMMs share one buffer.
// CHECK-LABEL: emitc.func @split_workspace_size(
// CHECK: moe_total += moe::cuda::wsBytes((moe::cuda::divUp(moe_T, 128) + 1) * 16);
// CHECK-NEXT: moe_total += moe::cuda::wsBytes(moe::cuda::splitRows(moe_T, 4, 1) * 256 * 4);
// CHECK: moe_total += moe::cuda::wsBytes(std::max<int64_t>(moe::cuda::splitRows(moe_T, 4, 1) * 256, moe::cuda::splitRows(moe_T, 2, 1) * 256) * 4);
// CHECK-LABEL: emitc.func @split(
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"(%{{.*}}, %arg0, %{{.*}}, %{{.*}}, %arg1, %{{.*}}, %{{.*}}, %[[P0:.*]], %arg8) {args = [#emitc.opaque<"split_k0">
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"({{.*}}, %[[P1:.*]], %arg8) {args = [#emitc.opaque<"split_k1_up">
// CHECK: call_opaque "moe::cuda::launchGroupedGemm"({{.*}}, %[[P1]], %arg8) {args = [#emitc.opaque<"split_k1_down">
func.func @split(%x: tensor<?x256xbf16>, %w: tensor<256x256xbf16>, %gu: tensor<1x256x256xbf16>, %d: tensor<1x256x128xbf16>) -> (tensor<?x256xf32>, tensor<?x256xbf16>) {
  %z = moe.gate %x, %w : tensor<?x256xbf16>, tensor<256x256xbf16> -> tensor<?x256xf32>
  %y = moe.expert_ffn %x weights %gu, %d
      : (tensor<?x256xbf16>, tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<?x256xbf16>
  return %z, %y : tensor<?x256xf32>, tensor<?x256xbf16>
}
