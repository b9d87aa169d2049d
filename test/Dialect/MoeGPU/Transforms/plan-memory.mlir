// RUN: moe-opt %s --split-input-file --moegpu-configure --canonicalize --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --moegpu-plan-memory="print reference-tokens=1000" --canonicalize --cse 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=PLAN --input-file=%t.remarks

// The routed experts: h (gate/up's output) and the tile map live at once;
// the output is the caller's. The allocations become views of a workspace
// argument before num_tokens, sized and placed at run time; the launcher
// returns nothing (its output is written in place) and a size function of
// the token count comes first.
// CHECK-LABEL: func.func @experts_workspace_size
// CHECK-SAME: (%[[N:.+]]: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> index attributes {moegpu.workspace_size_of = @experts}
// CHECK: %[[H:.+]] = arith.muli %[[N]], %c256
// CHECK: %[[END:.+]] = arith.addi %[[H]], %{{.+}}
// CHECK: %[[TOTAL:.+]] = arith.maxsi %[[H]], %[[END]]
// CHECK: return %[[TOTAL]]
// CHECK-LABEL: func.func @experts
// CHECK-SAME: %[[OUT:[^:]+]]: memref<?x256xbf16> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>>}, %[[WS:[^:]+]]: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">}, %[[T:[^:]+]]: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
// CHECK-SAME: attributes {moegpu.max_tokens = 549755813888 : i64, moegpu.workspace = #moegpu.workspace<"experts_workspace_size", alignment = 256, [<"k1.grouped_gemm.out", "num_tokens * 256">, <"k0.tile_map.tiles", "ceildiv((ceildiv(num_tokens, 128) + 8) * 16, 256) * 256", after = [0]>]>}
// CHECK: %[[TOFF:.+]] = arith.muli %[[T]], %c256
// CHECK: %[[TILES:.+]] = memref.view %[[WS]][%[[TOFF]]][%{{.+}}] : memref<?xi8> to memref<?x4xi32>
// CHECK: moegpu.tile_map offsets %arg1 {{.*}} outs(%[[TILES]] : memref<?x4xi32>)
// CHECK: %[[HV:.+]] = memref.view %[[WS]][%c0][%[[T]]] : memref<?xi8> to memref<?x128xbf16>
// CHECK: moegpu.grouped_gemm %arg0, %arg2 tiles %[[TILES]] {{.*}} outs(%[[HV]] : memref<?x128xbf16>)
// CHECK: moegpu.grouped_gemm %[[HV]], %arg3 tiles %[[TILES]] {{.*}} outs(%[[OUT]] : memref<?x256xbf16>)
// CHECK-NEXT: moegpu.zero_tail
// CHECK-NEXT: return{{$}}
// PLAN: remark: workspace plan of @experts at 1000 tokens: 256256 bytes (0.00 GB) in 2 buffers; peak of live buffers 256256 (0.00 GB), all buffers 256256 (0.00 GB)
// PLAN-NEXT: #0 k1.grouped_gemm.out: 256000 bytes at 0, live over ops 7-8
// PLAN-NEXT: #1 k0.tile_map.tiles: 256 bytes at 256000, live over ops 5-8
func.func @experts(%rows: tensor<?x256xbf16>, %offsets: tensor<9xi32>,
                   %gate_up: tensor<8x256x256xbf16>, %down: tensor<8x256x128xbf16>)
    -> tensor<?x256xbf16> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<?x256xbf16>, tensor<9xi32>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>)
        -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

// -----

// A launcher with no intermediates gets no workspace, but still a bound:
// its largest tensor, the [2T, 64] bf16 expert rows, stays within 2^48
// bytes up to 2^48 / 256 tokens.
// CHECK-LABEL: func.func @combine
// CHECK-SAME: %{{[^:]+}}: memref<?x64xbf16> {moegpu.param = #moegpu.param<output, "output", rows = affine_map<()[s0] -> (s0)>>}, %{{[^:]+}}: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) attributes {moegpu.max_tokens = 1099511627776 : i64} {
// CHECK-NOT: memref.view
// CHECK-NOT: func.func @combine_workspace_size
func.func @combine(%h: tensor<?x64xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// The DeepSeek-V3 layer: the permuted rows die at gate/up and the expert
// outputs are born at down, so they share the bottom of the workspace; h
// sits above both, the shared expert's buffers reuse h's space. At 1000
// tokens the plan is the peak of the simultaneously live buffers, about
// half of all of them.
// PLAN: remark: workspace plan of @v3_layer at 1000 tokens: 147602944 bytes (0.15 GB) in 20 buffers; peak of live buffers 147526400 (0.15 GB), all buffers 289976576 (0.29 GB)
// PLAN-NEXT: #0 k3.permute.rows: 114688000 bytes at 0, live over ops 39-45
// PLAN-NEXT: #1 k6.grouped_gemm.out: 114688000 bytes at 0, live over ops 47-75
// PLAN-NEXT: #2 k5.grouped_gemm.out: 32768000 bytes at 114688000, live over ops 45-47
// PLAN-NEXT: #3 k10.grouped_gemm.out: 14336000 bytes at 114688000, live over ops 74-75
// The router's split-K partial sums (8 splits at 1000 rows) only live
// during the router GEMM.
// PLAN-NEXT: #4 k1.grouped_gemm.partial: 8192000 bytes at 0, live over ops 26-26
// CHECK-LABEL: func.func @v3_layer_workspace_size
// CHECK-LABEL: func.func @v3_layer
// CHECK-SAME: moegpu.workspace = #moegpu.workspace<"v3_layer_workspace_size", alignment = 256, [<"k3.permute.rows", "num_tokens * 8 * 14336">, <"k6.grouped_gemm.out", "num_tokens * 8 * 14336">, <"k5.grouped_gemm.out", "num_tokens * 8 * 4096", after = [0, 1]>
// The router's split-K partial sums: none past 8192 rows.
// CHECK-SAME: <"k1.grouped_gemm.partial", "select(select(num_tokens <= 2048, 8, select(num_tokens <= 4096, 4, select(num_tokens <= 8192, 2, 1))) > 1, select(num_tokens <= 2048, 8, select(num_tokens <= 4096, 4, select(num_tokens <= 8192, 2, 1))) * num_tokens, 0) * 1024">
func.func @v3_layer(%x: tensor<?x7168xbf16>, %router: tensor<256x7168xbf16>, %bias: tensor<256xf32>,
                    %gate_up: tensor<256x4096x7168xbf16>, %down: tensor<256x7168x2048xbf16>,
                    %shared_gate_up: tensor<1x4096x7168xbf16>, %shared_down: tensor<1x7168x2048xbf16>)
    -> tensor<?x7168xbf16> {
  %y = moe.layer %x router %router bias %bias experts %gate_up, %down
      shared %shared_gate_up, %shared_down
      score sigmoid k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<256xf32>,
         tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>,
         tensor<1x4096x7168xbf16>, tensor<1x7168x2048xbf16>) -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}
