// RUN: moe-opt %s --split-input-file --moegpu-configure --canonicalize | FileCheck %s
// RUN: moe-opt %s --split-input-file --moegpu-configure=target=sm_80 --canonicalize | FileCheck %s --check-prefix=SM80
// RUN: moe-opt %s --split-input-file --moegpu-configure="gemm-family=mma_sync gemm-store=registers tile-chunk=4" --canonicalize | FileCheck %s --check-prefix=MMA
// RUN: moe-opt %s --split-input-file --moegpu-configure=fuse-gather=true --canonicalize | FileCheck %s --check-prefix=GATHER

// score -> route -> counts: one routing kernel reading the logits. The
// function becomes a launcher: its inputs and outputs named, its results
// written into output arguments, a num_tokens argument last.
// CHECK: module attributes {moegpu.target = #moegpu.target<"sm_90a">}
// CHECK-LABEL: func.func @v3
// CHECK-SAME: (%[[Z:[^:]+]]: tensor<?x256xf32> {moegpu.param = #moegpu.param<input, "logits", rows = affine_map<()[s0] -> (s0)>>},
// CHECK-SAME: %[[B:[^:]+]]: tensor<256xf32> {moegpu.param = #moegpu.param<input, "bias">},
// CHECK-SAME: %[[IDS:[^:]+]]: tensor<?x8xi32> {moegpu.param = #moegpu.param<output, "ids", rows = affine_map<()[s0] -> (s0)>>},
// CHECK-SAME: %[[W:[^:]+]]: tensor<?x8xf32> {moegpu.param = #moegpu.param<output, "weights", rows = affine_map<()[s0] -> (s0)>>},
// CHECK-SAME: %[[C:[^:]+]]: tensor<256xi32> {moegpu.param = #moegpu.param<output, "counts">},
// CHECK-SAME: %[[T:[^:]+]]: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
// CHECK-NEXT: %[[I:.+]], %[[WR:.+]], %[[CR:.+]] = moegpu.route score sigmoid %[[Z]] bias %[[B]] k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.500000e+00 counts grid = persistent tokens(%[[T]]) outs(%[[IDS]], %[[W]], %[[C]] :
// CHECK-NEXT: return %[[I]], %[[WR]], %[[CR]]
// SM80-LABEL: func.func @v3
// SM80: moegpu.route
func.func @v3(%z: tensor<?x256xf32>, %b: tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>) {
  %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
  return %ids, %w, %c : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
}

// -----

// Without counts the kernel has two inits; bf16 logits stay bf16; a route
// of scores (no moe.score) reads them.
// CHECK-LABEL: func.func @v2
// CHECK: moegpu.route score softmax %{{.+}} k = 6 groups = 8 group_topk = 3 scale = 1.600000e+01 grid = persistent
// CHECK-SAME: : tensor<?x160xbf16> -> tensor<?x6xi32>, tensor<?x6xf32>
// CHECK-LABEL: func.func @scores
// CHECK-SAME: #moegpu.param<input, "scores"
// CHECK: moegpu.route %{{.+}} k = 2 grid = persistent
func.func @v2(%z: tensor<?x160xbf16>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %s = moe.score softmax %z : tensor<?x160xbf16> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 scale = 16.0
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}
func.func @scores(%s: tensor<?x8xf32>) -> tensor<?x2xi32> {
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids : tensor<?x2xi32>
}

// -----

// A V3 training step: the routing kernel also writes the statistics of the
// loss (chunks of 64 tokens, 2E columns); the loss and the gradient's
// weights are one reduction of them (the gradient reuses the loss's), the
// gradient one more pass over the logits; the bias update reads the routed
// counts.
// CHECK-LABEL: func.func @v3_train
// CHECK-SAME: (%[[Z:[^:]+]]: tensor<?x256xf32> {{.*}}, %[[B:[^:]+]]: tensor<256xf32> {{.*}}, %[[IDS:[^:]+]]: tensor<?x8xi32> {{.*}}, %[[LOSS:[^:]+]]: tensor<f32> {{.*}}"loss">}, %[[GRAD:[^:]+]]: tensor<?x256xf32> {{.*}}"grad", {{.*}}, %[[NB:[^:]+]]: tensor<256xf32> {{.*}}"new_bias">}, %[[T:[^:]+]]: index
// CHECK: %[[CHUNKS:.+]] = arith.ceildivsi %[[T]], %c64
// CHECK: %[[STATS:.+]] = tensor.empty(%[[CHUNKS]]) : tensor<?x512xf32>
// CHECK: %{{.+}}, %{{.+}}, %[[CNT:.+]], %[[ST:.+]] = moegpu.route score sigmoid %[[Z]] bias %[[B]] {{.*}} counts stats <sequence, alpha = 0.0e+00, counts = topk, seq_len = 4096> chunk = 64 grid = persistent tokens(%[[T]]) outs(%[[IDS]], %{{.+}}, %{{.+}}, %[[STATS]] :
// CHECK: %[[SEQS:.+]] = arith.divsi %[[T]], %c4096
// CHECK: %[[SEQ:.+]] = tensor.empty(%[[SEQS]]) : tensor<?xf64>
// CHECK: %{{.+}}, %[[G:.+]], %{{.+}} = moegpu.loss_from_stats %[[ST]] <sequence, alpha = 1.0e-04, counts = topk, seq_len = 4096> k = 8 chunk = 64 tokens(%[[T]]) outs(%[[LOSS]], %{{.+}}, %[[SEQ]] : tensor<f32>, tensor<?x256xf32>, tensor<?xf64>)
// CHECK-NOT: moegpu.loss_from_stats
// CHECK: moegpu.loss_grad sigmoid %[[Z]], %[[G]] <sequence, {{.*}}> grid = persistent tokens(%[[T]]) outs(%[[GRAD]] :
// CHECK: moegpu.bias_update %[[B]], %[[CNT]] rate = 1.000000e-03 outs(%[[NB]] :
// CHECK-NOT: moe.
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

// -----

// V2's three losses share one set of statistics with the device columns; a
// sequence length of 100 gives chunks of gcd(100, 64) = 4 tokens.
// CHECK-LABEL: func.func @v2_losses
// CHECK: moegpu.route score softmax
// CHECK-SAME: stats <device, alpha = 0.0e+00, seq_len = 100, devices = 8> chunk = 4
// CHECK-SAME: tensor<?x328xf32>
// CHECK-COUNT-3: moegpu.loss_from_stats
// CHECK-NOT: moegpu.loss_from_stats
func.func @v2_losses(%z: tensor<?x160xf32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  return %l1, %l2, %l3 : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// With gradients too, each configuration is reduced once: a gradient reads
// the weights of its loss's reduction. Nothing reads counts, so the route
// writes none.
// CHECK-LABEL: func.func @v2_train
// CHECK: %{{.+}}, %{{.+}}, %[[ST:.+]] = moegpu.route score softmax %[[Z:[^ ]+]] k = 6 groups = 8 group_topk = 3 stats
// CHECK: %{{.+}}, %[[W1:.+]], %{{.+}} = moegpu.loss_from_stats %[[ST]] <expert,
// CHECK: %{{.+}}, %[[W2:.+]], %{{.+}} = moegpu.loss_from_stats %[[ST]] <device,
// CHECK: %{{.+}}, %[[W3:.+]], %{{.+}} = moegpu.loss_from_stats %[[ST]] <comm,
// CHECK-NOT: moegpu.loss_from_stats
// CHECK: moegpu.loss_grad softmax %[[Z]], %[[W1]] <expert,
// CHECK: moegpu.loss_grad softmax %[[Z]], %[[W2]] <device,
// CHECK: moegpu.loss_grad softmax %[[Z]], %[[W3]] <comm,
// CHECK-NOT: moegpu.loss_from_stats
func.func @v2_train(%z: tensor<?x160xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>) {
  %s = moe.score softmax %z : tensor<?x160xf32> -> tensor<?x160xf32>
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3 : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %l1 = moe.balance_loss %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l2 = moe.balance_loss %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %l3 = moe.balance_loss %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<f32>
  %g1 = moe.balance_loss_grad softmax %s, %ids <expert, alpha = 0.003, seq_len = 100> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g2 = moe.balance_loss_grad softmax %s, %ids <device, alpha = 0.05, seq_len = 100, devices = 8> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  %g3 = moe.balance_loss_grad softmax %s, %ids <comm, alpha = 0.02, seq_len = 100, devices = 8, device_limit = 3> : tensor<?x160xf32>, tensor<?x6xi32> -> tensor<?x160xf32>
  return %l1, %l2, %l3, %g1, %g2, %g3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<?x160xf32>, tensor<?x160xf32>, tensor<?x160xf32>
}

// -----

// The DeepSeek-V3 layer on sm_90a: the router GEMM (one expert, f32
// logits, registers) splits K 8 ways up to 2048 rows, 4 up to 4096, 2 up to
// 8192; the routed gate/up and down run on wgmma 128 x 256 tiles with 4
// stages and TMA stores, over a tile map of the permute's offsets in chunks
// of 8; the shared expert's GEMMs split K over their own regimes; the rows
// no expert owns are zeroed; the combine adds the shared output.
// CHECK-LABEL: func.func @v3_layer
// CHECK-SAME: %[[OUT:[^:]+]]: tensor<?x7168xbf16> {moegpu.param = #moegpu.param<output, "output", rows = affine_map<()[s0] -> (s0)>>}, %[[T:[^:]+]]: index
// CHECK: %[[RT:.+]] = moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%[[T]])
// CHECK: %[[LOGITS:.+]], %{{.+}} = moegpu.grouped_gemm %arg0, %arg1 tiles %[[RT]] rows(%[[T]]) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers, split_k = #moegpu.regimes<[2048 -> 8, 4096 -> 4, 8192 -> 2], 1>> epilogue none
// CHECK-SAME: -> tensor<?x256xf32>, tensor<?x256xf32>
// CHECK: %[[IDS:.+]], %[[W:.+]] = moegpu.route score sigmoid %[[LOGITS]] bias %arg2
// CHECK: %[[ROWS:.+]] = arith.muli %[[T]], %c8
// CHECK: %[[MAP:.+]], %[[OFF:.+]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[PR:.+]] = moegpu.permute %arg0, %[[IDS]], %[[W]] fused_place_blocks = 64 grid = persistent tokens(%[[T]])
// CHECK-SAME: -> tensor<?x8xi32>, tensor<257xi32>, tensor<?xi32>, tensor<?xi32>, tensor<?x256xi32>, tensor<257xi32>, tensor<?x7168xbf16>
// CHECK: %[[TILES:.+]] = moegpu.tile_map offsets %[[OFF]] experts = 256 row_tile = 128 chunk = 8 rows(%[[ROWS]])
// CHECK: %[[H:.+]] = moegpu.grouped_gemm %[[PR]], %arg3 tiles %[[TILES]] rows(%[[ROWS]]) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue silu_mul
// CHECK: %[[Y:.+]] = moegpu.grouped_gemm %[[H]], %arg4 tiles %[[TILES]] rows(%[[ROWS]]) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
// CHECK: %[[Y0:.+]] = moegpu.zero_tail offsets %[[OFF]] rows(%[[ROWS]]) grid = persistent outs(%[[Y]] :
// CHECK: %[[ST:.+]] = moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%[[T]])
// CHECK: %[[SH:.+]], %{{.+}} = moegpu.grouped_gemm %arg0, %arg5 tiles %[[ST]] rows(%[[T]]) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[128 -> 8, 256 -> 4, 512 -> 2], 1>> epilogue silu_mul
// CHECK: %[[SY:.+]], %{{.+}} = moegpu.grouped_gemm %[[SH]], %arg6 tiles %[[ST]] rows(%[[T]]) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[128 -> 4, 256 -> 2], 1>> epilogue none
// CHECK: moegpu.combine %[[Y0]], %[[MAP]], %[[W]] shared %[[SY]] rows(%[[ROWS]]) grid = persistent tokens(%[[T]]) outs(%[[OUT]] :
// On sm_80 every GEMM is mma.sync (and never splits).
// SM80-LABEL: func.func @v3_layer
// SM80-COUNT-5: #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers>
// SM80-NOT: wgmma
// MMA-LABEL: func.func @v3_layer
// MMA: moegpu.tile_map experts = 1 row_tile = 128 chunk = 4
// MMA-COUNT-5: #moegpu.gemm<mma_sync
// With fuse-gather the permute copies no rows: gate/up gathers them from
// the input through the row-token map (T rows of A).
// GATHER-LABEL: func.func @v3_layer
// GATHER: %{{.+}}, %{{.+}}, %[[TOK:.+]], %{{.+}}, %{{.+}}, %{{.+}} = moegpu.permute %arg0, {{.*}} deferred_gather grid = persistent
// GATHER: moegpu.grouped_gemm %arg0, %arg3 tiles %{{.+}} gather %[[TOK]] a_rows(%arg8) rows(%{{.+}}) {{.*}} epilogue silu_mul
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

// -----

// Shapes the wgmma kernel does not take run on mma.sync: a router of 64
// experts (no whole 256-column tile); a small shared expert in whole
// tiles takes wgmma, and splits K at fewer rows the fewer tiles it has.
// CHECK-LABEL: func.func @small
// CHECK: moegpu.grouped_gemm %arg0, %arg1 {{.*}} #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
// CHECK-SAME: tensor<64x256xbf16>
// CHECK: #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[4096 -> 4, 8192 -> 2], 1>> epilogue silu_mul
// CHECK: #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[8192 -> 2], 1>> epilogue none
func.func @small(%x: tensor<?x256xbf16>, %router: tensor<64x256xbf16>,
                 %gate_up: tensor<1x256x256xbf16>, %down: tensor<1x256x128xbf16>)
    -> (tensor<?x64xf32>, tensor<?x256xbf16>) {
  %z = moe.gate %x, %router : tensor<?x256xbf16>, tensor<64x256xbf16> -> tensor<?x64xf32>
  %y = moe.expert_ffn %x weights %gate_up, %down
      : (tensor<?x256xbf16>, tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<?x256xbf16>
  return %z, %y : tensor<?x64xf32>, tensor<?x256xbf16>
}

// -----

// A static token count: static inits, and the launcher records it.
// CHECK-LABEL: func.func @static_route
// CHECK-SAME: attributes {moegpu.static_tokens = 4 : i64}
// CHECK: moegpu.route {{.*}} tokens(%c4)
func.func @static_route(%z: tensor<4x16xf32>) -> tensor<4x2xi32> {
  %s = moe.score sigmoid %z : tensor<4x16xf32> -> tensor<4x16xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<4x16xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids : tensor<4x2xi32>
}

// -----

// A combine alone: its expert rows come from a permute, T*K of them; the
// dispatch layout of a topology; a permute with the probs drop policy
// keeps the segment scratch.
// CHECK-LABEL: func.func @combine
// CHECK-SAME: %arg0: tensor<?x64xbf16> {moegpu.param = #moegpu.param<input, "expert_out", rows = affine_map<()[s0] -> (s0 * 2)>>}
// CHECK: %[[R:.+]] = arith.muli %arg4, %c2
// CHECK: moegpu.combine %arg0, %arg1, %arg2 rows(%[[R]]) grid = persistent tokens(%arg4)
// CHECK-LABEL: func.func @layout
// CHECK: moegpu.dispatch_layout %arg0 topology <nodes = 2, gpus_per_node = 2, experts_per_gpu = 4> grid = persistent tokens(%arg5)
// CHECK-LABEL: func.func @probs
// CHECK: moegpu.permute {{.*}} capacity_factor = 1.250000e+00 fused_place_blocks = 64
// CHECK-SAME: -> tensor<?x2xi32>, tensor<17xi32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16xi32>, tensor<17xi32>, tensor<?xi32>, tensor<?x64xbf16>
func.func @combine(%h: tensor<?x64xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
func.func @layout(%ids: tensor<?x2xi32>) -> (tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>) {
  %e, %r, %n, %m = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 2, experts_per_gpu = 4>
      : tensor<?x2xi32> -> tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
  return %e, %r, %n, %m : tensor<16xi32>, tensor<4xi32>, tensor<2xi32>, tensor<?x4xi1>
}
func.func @probs(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x64xbf16> {
  %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.25
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<17xi32>)
  return %rows : tensor<?x64xbf16>
}

// -----

// Results no kernel computes: an input (what moe.bias_update with rate = 0
// folds to) and a value returned twice are copied into their outputs, the
// zeros of a loss with alpha = 0 cleared; rows follow the output's.
// CHECK-LABEL: func.func @folded
// CHECK-SAME: (%[[Z:[^:]+]]: tensor<?x64xf32> {{.*}}, %[[B:[^:]+]]: tensor<64xf32> {{.*}}, %[[IDS:[^:]+]]: tensor<?x6xi32> {moegpu.param = #moegpu.param<output, "ids", {{.*}}, %[[NB:[^:]+]]: tensor<64xf32> {moegpu.param = #moegpu.param<output, "result1">}, %[[L:[^:]+]]: tensor<f32> {moegpu.param = #moegpu.param<output, "result2">}, %[[IDS2:[^:]+]]: tensor<?x6xi32> {moegpu.param = #moegpu.param<output, "ids1", rows = affine_map<()[s0] -> (s0)>>}, %[[T:[^:]+]]: index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[R:.+]], %{{.+}} = moegpu.route
// CHECK: %[[COPY:.+]] = moegpu.copy %[[B]] rows(%[[C64]]) outs(%[[NB]] : tensor<64xf32>) : tensor<64xf32> -> tensor<64xf32>
// CHECK: %[[ZERO:.+]] = moegpu.zero rows(%[[C1]]) outs(%[[L]] : tensor<f32>) -> tensor<f32>
// CHECK: %[[DUP:.+]] = moegpu.copy %[[R]] rows(%[[T]]) outs(%[[IDS2]] : tensor<?x6xi32>) : tensor<?x6xi32> -> tensor<?x6xi32>
// CHECK: return %[[R]], %[[COPY]], %[[ZERO]], %[[DUP]]
func.func @folded(%z: tensor<?x64xf32>, %b: tensor<64xf32>)
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

// -----

// Router logits in bf16 (Qwen, Mixtral): the router GEMM writes bf16 (its
// f32 sums rounded once) and the routing kernel reads bf16 logits.
// CHECK-LABEL: func.func @bf16_logits
// CHECK: %[[Z:.+]] = moegpu.grouped_gemm %{{.+}}, %{{.+}} tiles
// CHECK-SAME: -> tensor<?x8xbf16>
// CHECK: moegpu.route score softmax %[[Z]] k = 2 normalize
// CHECK-SAME: : tensor<?x8xbf16> -> tensor<?x2xi32>, tensor<?x2xf32>
// SM80-LABEL: func.func @bf16_logits
// SM80: moegpu.grouped_gemm {{.+}} -> tensor<?x8xbf16>
// SM80: moegpu.route score softmax {{.+}} : tensor<?x8xbf16>
func.func @bf16_logits(%x: tensor<?x256xbf16>, %r: tensor<8x256xbf16>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  %z = moe.gate %x, %r : tensor<?x256xbf16>, tensor<8x256xbf16> -> tensor<?x8xbf16>
  %s = moe.score softmax %z : tensor<?x8xbf16> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 normalize : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}
