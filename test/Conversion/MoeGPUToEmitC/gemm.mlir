// RUN: moe-opt %s --split-input-file --convert-moegpu-to-emitc | FileCheck %s

// A tile map without offsets (one expert) and an mma.sync GEMM: the kernel
// is groupedGemmBody of a GemmSpec; the launch gives A's rows (the GEMM's
// own without a gather) and no row-token map.
// CHECK: emitc.func @router_k0({{.*}}) attributes {specifiers = ["static", "__global__", "__launch_bounds__(1024)"]}
// CHECK-NEXT: call_opaque "moe::cuda::rowTilesBody"{{.*}}template_args = [#emitc.opaque<"1">]
// CHECK: verbatim "using router_k1_spec = moe::cuda::GemmSpec<__nv_bfloat16, float, 1, 64, 256, false>;"
// CHECK: emitc.func @router_k1({{.*}}) attributes {specifiers = ["static", "__global__", "__launch_bounds__(router_k1_spec::Threads)"]}
// CHECK-NEXT: call_opaque "moe::cuda::groupedGemmBody"{{.*}}template_args = [#emitc.opaque<"router_k1_spec">]
// CHECK-LABEL: emitc.func @router(
// CHECK: verbatim "if ({} < 0 || {} > 1000000) return cudaErrorInvalidValue;" args %[[N:[^,]+]], %[[N]] : i64, i64
// CHECK: %[[NONE:.+]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"const int32_t">>
// CHECK: %[[TILES:.+]] = cast %{{.+}} : !emitc.ptr<!emitc.opaque<"int32_t">> to !emitc.ptr<!emitc.opaque<"moe::cuda::RowTile">>
// CHECK: %[[ROWTILE:.+]] = literal "128" : i32
// CHECK: %[[CHUNK:.+]] = literal "8" : i32
// CHECK: call_opaque "moe::cuda::launchChained"(%{{.+}}, %[[S:[^,]+]], %[[NONE]], %[[T:[^,]+]], %[[TILES]], %[[ROWTILE]], %[[CHUNK]]) {args = [#emitc.opaque<"router_k0">, 0 : index, #emitc.opaque<"1024">
// CHECK: %[[NOMAP:.+]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"const int32_t">>
// CHECK: %[[CT:.+]] = cast %{{.+}} : !emitc.ptr<!emitc.opaque<"int32_t">> to !emitc.ptr<!emitc.opaque<"const moe::cuda::RowTile">>
// CHECK: call_opaque "moe::cuda::launchGemmMma"(%[[T]], %arg0, %[[T]], %[[NOMAP]], %arg1, %[[CT]], %arg2, %[[S]]) {args = [#emitc.opaque<"router_k1">, 0 : index, 1 : index, 2 : index, 3 : index, 4 : index, 5 : index, 6 : index, 7 : index], template_args = [#emitc.opaque<"router_k1_spec">]}
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @router(%x: memref<?x256xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                    %w: memref<64x256xbf16> {moegpu.param = #moegpu.param<input, "router">},
                    %out: memref<?x64xf32> {moegpu.param = #moegpu.param<output, "logits", rows = affine_map<()[s0] -> (s0)>>},
                    %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                    %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64, moegpu.workspace = #moegpu.workspace<"router_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %tiles = memref.view %ws[%c0][%c1] : memref<?xi8> to memref<?x4xi32>
    moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%n) outs(%tiles : memref<?x4xi32>)
    moegpu.grouped_gemm %x, %w tiles %tiles rows(%n) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none outs(%out : memref<?x64xf32>) : memref<?x256xbf16>, memref<64x256xbf16>, memref<?x4xi32>
    return
  }
}

// -----

// wgmma: launchGemmWgmma<spec, rows, stages> with no emitted kernel; the
// split count is the split_k regimes of the rows (8 up to 128 rows, 4 up to
// 256, else 1) as nested conditionals, the partial sums passed along;
// TMA stores as configured. A gathering gate/up reads A (the permute's
// input, T rows) through the row-token map; the routed tile map is chunked.
// CHECK: verbatim "using shared_k1_spec = moe::cuda::GemmSpec<__nv_bfloat16, __nv_bfloat16, 1, 2048, 7168, true>;"
// CHECK-NOT: emitc.func @shared_k1(
// CHECK-LABEL: emitc.func @shared(
// CHECK: %[[LE:.+]] = cmp le, %[[T:[^,]+]], %{{.+}} : (i64, i64) -> i1
// CHECK: %[[S2:.+]] = conditional %[[LE]], %{{.+}}, %{{.+}} : i64
// CHECK: %[[LE2:.+]] = cmp le, %[[T]], %{{.+}} : (i64, i64) -> i1
// CHECK: %[[S:.+]] = conditional %[[LE2]], %{{.+}}, %[[S2]] : i64
// CHECK: %[[TMA:.+]] = literal "true" : i1
// CHECK: call_opaque "moe::cuda::launchGemmWgmma"(%[[T]], %arg0, %[[T]], %{{.+}}, %arg1, %{{.+}}, %{{.+}}, %{{.+}}, %[[S]], %[[TMA]], %{{.+}}) {template_args = [#emitc.opaque<"shared_k1_spec">, #emitc.opaque<"128">, #emitc.opaque<"4">]}
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @shared(%x: memref<?x7168xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                    %w: memref<1x4096x7168xbf16> {moegpu.param = #moegpu.param<input, "shared_gate_up">},
                    %out: memref<?x2048xbf16> {moegpu.param = #moegpu.param<output, "h", rows = affine_map<()[s0] -> (s0)>>},
                    %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                    %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64, moegpu.workspace = #moegpu.workspace<"shared_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">, <"k1.grouped_gemm.partial", "num_tokens * 16384", after = [0]>]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c256 = arith.constant 256 : index
    %tiles = memref.view %ws[%c0][%c1] : memref<?xi8> to memref<?x4xi32>
    %partial = memref.view %ws[%c256][%n] : memref<?xi8> to memref<?x4096xf32>
    moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%n) outs(%tiles : memref<?x4xi32>)
    moegpu.grouped_gemm %x, %w tiles %tiles rows(%n) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[128 -> 8, 256 -> 4], 1>> epilogue silu_mul outs(%out, %partial : memref<?x2048xbf16>, memref<?x4096xf32>) : memref<?x7168xbf16>, memref<1x4096x7168xbf16>, memref<?x4xi32>
    return
  }
}

// -----

// CHECK-LABEL: emitc.func @gathered(
// CHECK: %[[NOPARTIAL:.+]] = literal "nullptr" : !emitc.ptr<!emitc.opaque<"float">>
// CHECK: %[[ONE:.+]] = literal "1" : i64
// CHECK: %[[REG:.+]] = literal "false" : i1
// CHECK: call_opaque "moe::cuda::launchGemmWgmma"(%[[R:[^,]+]], %arg0, %[[T:[^,]+]], %arg2, %arg1, %{{.+}}, %arg3, %[[NOPARTIAL]], %[[ONE]], %[[REG]], %{{.+}})
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @gathered(%x: memref<?x7168xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                      %w: memref<256x4096x7168xbf16> {moegpu.param = #moegpu.param<input, "gate_up">},
                      %token: memref<?xi32> {moegpu.param = #moegpu.param<input, "row_token", rows = affine_map<()[s0] -> (s0 * 8)>>},
                      %out: memref<?x2048xbf16> {moegpu.param = #moegpu.param<output, "h", rows = affine_map<()[s0] -> (s0 * 8)>>},
                      %tiles: memref<?x4xi32> {moegpu.param = #moegpu.param<input, "tiles", rows = affine_map<()[s0] -> (s0)>>},
                      %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64} {
    %c8 = arith.constant 8 : index
    %rows = arith.muli %n, %c8 : index
    moegpu.grouped_gemm %x, %w tiles %tiles gather %token a_rows(%n) rows(%rows) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers> epilogue silu_mul outs(%out : memref<?x2048xbf16>) : memref<?x7168xbf16>, memref<256x4096x7168xbf16>, memref<?x4xi32>, memref<?xi32>
    return
  }
}

// -----

// The rows no expert owns: a grid-stride kernel over 16-byte vectors, its
// grid under the grid policy (exact: all blocks that have work).
// CHECK: emitc.func @tail_k0({{.*}}) attributes {specifiers = ["static", "__global__", "__launch_bounds__(256)"]}
// CHECK-NEXT: call_opaque "moe::cuda::zeroTailBody"{{.*}}template_args = [#emitc.opaque<"moe::cuda::ZeroTailSpec<__nv_bfloat16, 256, 7168>">]
// CHECK-LABEL: emitc.func @tail(
// CHECK: call_opaque "moe::cuda::divUp"(%{{.+}}) {args = [0 : index, #emitc.opaque<"2048">]}
// CHECK: call_opaque "moe::cuda::sizeGrid"{{.*}}#emitc.opaque<"reinterpret_cast<const void*>(tail_k0)">, #emitc.opaque<"256">, 0 : index, #emitc.opaque<"false">
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @tail(%off: memref<257xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                  %out: memref<?x7168xbf16> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>>},
                  %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64} {
    moegpu.zero_tail offsets %off rows(%n) grid = exact outs(%out : memref<?x7168xbf16>) : memref<257xi32>
    return
  }
}
