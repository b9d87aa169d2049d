// RUN: moe-opt %s --convert-moegpu-to-emitc | FileCheck %s

// The host side of a launcher: the size function (extern "C" size_t of the
// token count, 0 for a negative one) with its index arithmetic as int64_t;
// the launcher's parameters (inputs const, the workspace void*, the stream
// last), the ABI kept on them with the tensor types; the argument checks
// (negative or, for a static launcher, wrong token count; a missing
// workspace); workspace views; cudaSuccess at the end.
// CHECK-LABEL: emitc.func @experts_workspace_size
// CHECK-SAME: (%[[N:.+]]: i64 {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> !emitc.opaque<"size_t"> attributes {moegpu.workspace_size_of = @experts, specifiers = ["extern \22C\22"]}
// CHECK-NEXT: verbatim "if ({} < 0) return 0;" args %[[N]]
// CHECK: %[[D:.+]] = call_opaque "moe::cuda::divUp"(%[[N]], %{{.+}}) : (i64, i64) -> i64
// CHECK: %[[B:.+]] = mul %[[D]], %{{.+}} : (i64, i64) -> i64
// CHECK: %[[GT:.+]] = cmp gt, %[[B]], %{{.+}} : (i64, i64) -> i1
// CHECK: %[[MAX:.+]] = conditional %[[GT]], %[[B]], %{{.+}} : i64
// CHECK: %[[S:.+]] = cast %[[MAX]] : i64 to !emitc.opaque<"size_t">
// CHECK: return %[[S]]
// CHECK-LABEL: emitc.func @experts(
// CHECK-SAME: %[[ROWS:.+]]: !emitc.ptr<!emitc.opaque<"const __nv_bfloat16">> {moegpu.param = #moegpu.param<input, "rows", rows = affine_map<()[s0] -> (s0)>, type = memref<?x256xbf16>>},
// CHECK-SAME: %[[OFF:.+]]: !emitc.ptr<!emitc.opaque<"const int32_t">> {moegpu.param = #moegpu.param<input, "offsets", type = memref<9xi32>>},
// CHECK-SAME: %[[OUT:.+]]: !emitc.ptr<!emitc.opaque<"__nv_bfloat16">> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>, type = memref<?x256xbf16>>},
// CHECK-SAME: %[[WS:.+]]: !emitc.ptr<!emitc.opaque<"void">> {moegpu.param = #moegpu.param<workspace, "workspace">},
// CHECK-SAME: %[[T:.+]]: i64 {moegpu.param = #moegpu.param<num_tokens, "num_tokens">},
// CHECK-SAME: %[[STREAM:.+]]: !emitc.opaque<"cudaStream_t"> {moegpu.param = #moegpu.param<stream, "stream">})
// CHECK-SAME: -> !emitc.opaque<"cudaError_t">
// CHECK-SAME: attributes {moegpu.static_tokens = 4 : i64, moegpu.workspace = #moegpu.workspace<"experts_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">]>, specifiers = ["extern \22C\22"]}
// CHECK-NEXT: verbatim "if ({} < 0) return cudaErrorInvalidValue;" args %[[T]]
// CHECK-NEXT: verbatim "if ({} != 4) return cudaErrorInvalidValue;" args %[[T]]
// CHECK-NEXT: verbatim "if ({} == nullptr && experts_workspace_size({}) > 0) return cudaErrorInvalidValue;" args %[[WS]], %[[T]]
// CHECK: %[[V:.+]] = call_opaque "moe::cuda::workspaceView"(%[[WS]], %{{.+}}) {template_args = [#emitc.opaque<"int32_t">]}
// CHECK: call_opaque "moe::cuda::launchChained"({{.*}}, %[[STREAM]], %[[OFF]], %[[T]], %{{.+}}, {{.*}}#emitc.opaque<"experts_k0">
// CHECK: %[[OK:.+]] = literal "cudaSuccess"
// CHECK-NEXT: return %[[OK]]
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @experts_workspace_size(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> index attributes {moegpu.workspace_size_of = @experts} {
    %c256 = arith.constant 256 : index
    %c128 = arith.constant 128 : index
    %0 = arith.ceildivsi %n, %c128 : index
    %1 = arith.muli %0, %c256 : index
    %2 = arith.maxsi %1, %c256 : index
    return %2 : index
  }
  func.func @experts(%rows: memref<?x256xbf16> {moegpu.param = #moegpu.param<input, "rows", rows = affine_map<()[s0] -> (s0)>>},
                     %offsets: memref<9xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                     %out: memref<?x256xbf16> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>>},
                     %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                     %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.static_tokens = 4 : i64, moegpu.workspace = #moegpu.workspace<"experts_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">]>} {
    %c0 = arith.constant 0 : index
    %c9 = arith.constant 9 : index
    %view = memref.view %ws[%c0][%c9] : memref<?xi8> to memref<?x4xi32>
    moegpu.tile_map offsets %offsets experts = 8 row_tile = 128 chunk = 8 rows(%n) outs(%view : memref<?x4xi32>) : memref<9xi32>
    moegpu.zero_tail offsets %offsets rows(%n) grid = exact outs(%out : memref<?x256xbf16>) : memref<9xi32>
    return
  }
}
