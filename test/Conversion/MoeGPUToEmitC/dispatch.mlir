// RUN: moe-opt %s --moe-lower-to-cuda | FileCheck %s

// The dispatch layout: a LayoutSpec of the topology (k, nodes, GPUs per
// node, experts per GPU), its grid under the grid policy, the counts zeroed
// for several blocks, then the launch.
// CHECK: verbatim "using layout_k0_spec = moe::cuda::LayoutSpec<2, 2, 2, 4>;"
// CHECK: emitc.func @layout_k0(
// CHECK-NEXT: call_opaque "moe::cuda::dispatchLayoutBody"
// CHECK-LABEL: emitc.func @layout(
// CHECK: %[[WANT:.+]] = call_opaque "moe::cuda::divUp"(%arg5) {args = [0 : index, #emitc.opaque<"layout_k0_spec::TokensPerBlock">]}
// CHECK: call_opaque "moe::cuda::sizeGrid"(%[[WANT]], %{{.+}}) {args = [#emitc.opaque<"reinterpret_cast<const void*>(layout_k0)">, #emitc.opaque<"layout_k0_spec::BlockSize">, 0 : index, #emitc.opaque<"true">, 1 : index]}
// CHECK: %[[GRID:.+]] = load
// CHECK: call_opaque "moe::cuda::zeroLayoutCounts"(%[[GRID]], %arg1, %arg2, %arg3, %arg6) {template_args = [#emitc.opaque<"layout_k0_spec">]}
// CHECK: call_opaque "moe::cuda::launchChained"(%[[GRID]], %arg6, %arg0, %arg5, %arg1, %arg2, %arg3, %arg4) {args = [#emitc.opaque<"layout_k0">
func.func @layout(%ids: tensor<?x2xi32>) -> (tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>) {
  %e, %r, %n, %m = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 2, experts_per_gpu = 4>
      : tensor<?x2xi32> -> tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
  return %e, %r, %n, %m : tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
}

// The permute with the probs drop policy: rank, fused place (up to
// fused_place_blocks rank blocks), scan + place past that, select, gather;
// their scratch (local rank, block counts, totals, segment, row token) in
// the workspace, gathered in one PermuteWorkspace.
// CHECK: verbatim "using probs_k0_spec = moe::cuda::PermuteSpec<__nv_bfloat16, 16, 2, 64, moe::cuda::DropPolicy::Probs>;"
// CHECK: emitc.func @probs_k0_rank(
// CHECK: emitc.func @probs_k0_scan(
// CHECK: emitc.func @probs_k0_place(
// CHECK: emitc.func @probs_k0_fused_place(
// CHECK: emitc.func @probs_k0_select(
// CHECK: emitc.func @probs_k0_gather(
// CHECK-LABEL: emitc.func @probs(
// CHECK: call_opaque "moe::cuda::checkPermute"(%arg0, %arg3, %arg6)
// CHECK: verbatim "const moe::cuda::PermuteWorkspace<probs_k0_spec> probs_k0_ws =
// CHECK: verbatim "const int64_t probs_k0_blocks = moe::cuda::rankBlocks<probs_k0_spec>({});" args %arg6
// CHECK: %[[FEW:.+]] = literal "(probs_k0_blocks > 0 && probs_k0_blocks <= 64) ? probs_k0_blocks : 0"
// CHECK: call_opaque "moe::cuda::launchChained"(%[[FEW]], {{.*}}#emitc.opaque<"probs_k0_fused_place">
// CHECK: literal "(probs_k0_blocks > 0 && probs_k0_blocks <= 64) ? 0 : 1"
// CHECK: verbatim "const int64_t probs_k0_slots = {} * 2;" args %arg6
// CHECK: literal "(probs_k0_blocks > 0 && probs_k0_blocks <= 64) ? 0 : moe::cuda::divUp(probs_k0_slots, probs_k0_spec::BlockSize)"
// CHECK: {{.*}}#emitc.opaque<"probs_k0_select">
// CHECK: call_opaque "moe::cuda::gatherBlocks"(%arg6)
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}, %arg0, %arg6, %{{.+}}, %arg4, %{{.+}}, %arg3) {args = [#emitc.opaque<"probs_k0_gather">
func.func @probs(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> (tensor<?x64xbf16>, tensor<17xi32>) {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.25
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<17xi32>)
  return %rows, %off : tensor<?x64xbf16>, tensor<17xi32>
}

// The combine: a CombineSpec (element type, k, hidden, shared), checks of
// the pointers, a grid of combineBlocks under the grid policy; the expert
// rows of an argument are T·k.
// CHECK: verbatim "using combine_k0_spec = moe::cuda::CombineSpec<__nv_bfloat16, 2, 64, true>;"
// CHECK: emitc.func @combine_k0(
// CHECK-NEXT: call_opaque "moe::cuda::combineBody"
// CHECK-LABEL: emitc.func @combine(
// CHECK: %[[R:.+]] = mul %arg5, %{{.+}} : (i64, i64) -> i64
// CHECK: call_opaque "moe::cuda::checkCombine"(%arg0, %arg3, %arg4)
// CHECK: %[[B:.+]] = call_opaque "moe::cuda::combineBlocks"(%arg5)
// CHECK: call_opaque "moe::cuda::sizeGrid"(%[[B]],
// CHECK: call_opaque "moe::cuda::launchChained"(%{{.+}}, %arg6, %arg0, %[[R]], %arg1, %arg2, %arg3, %arg5, %arg4) {args = [#emitc.opaque<"combine_k0">
func.func @combine(%h: tensor<?x64xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>, %sh: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w shared %sh : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
