// RUN: moe-opt %s --split-input-file --moe-plan-dispatch --verify-diagnostics | FileCheck %s
// RUN: moe-opt %s --split-input-file --moe-plan-dispatch="return-layout=true" --verify-diagnostics | FileCheck %s --check-prefix=EXPORT

// DeepSeek-V3: 8 nodes x 8 GPUs x 4 experts, at most 4 nodes per token,
// guaranteed by 4 of 8 groups with one group per node. The permute gives
// the row size (7168 bf16 = 14336 bytes).
// CHECK-LABEL: func.func @v3
// CHECK: %[[IDS:.*]], %{{.*}} = moe.route
// CHECK-NEXT: %{{.*}}, %[[PR:.*]], %[[PN:.*]], %[[IN:.*]] = moe.dispatch_layout %[[IDS]] topology <nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4> : tensor<4096x8xi32> -> tensor<256xi32>, tensor<64xi32>, tensor<8xi32>, tensor<4096x64xi1>
// EXPORT-LABEL: func.func @v3
// EXPORT-SAME: -> (tensor<4096x7168xbf16>, tensor<256xi32>, tensor<64xi32>, tensor<8xi32>, tensor<4096x64xi1>)
// EXPORT: %[[PE:.*]], %[[PR:.*]], %[[PN:.*]], %[[IN:.*]] = moe.dispatch_layout
// EXPORT: return %{{.*}}, %[[PE]], %[[PR]], %[[PN]], %[[IN]]
func.func @v3(%x: tensor<4096x7168xbf16>, %s: tensor<4096x256xf32>, %b: tensor<256xf32>) -> tensor<4096x7168xbf16> {
  // expected-remark @+1 {{dispatch plan on 8 nodes x 8 GPUs x 4 experts: a token reaches at most 4 nodes (group_topk = 4 of 8 groups, 1 per node) and 8 GPUs; per token it sends 4 rows (57344 bytes) to nodes with the limit, 8 rows (114688 bytes) node-deduplicated without it, 8 rows (114688 bytes) once per expert; for the 4096 tokens: 16384 rows (234881024 bytes) vs 32768 rows (469762048 bytes) vs 32768 rows (469762048 bytes)}}
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>}
      : (tensor<4096x256xf32>, tensor<256xf32>) -> (tensor<4096x8xi32>, tensor<4096x8xf32>)
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<4096x7168xbf16>, tensor<4096x8xi32>, tensor<4096x8xf32>) -> (tensor<32768x7168xbf16>, tensor<4096x8xi32>, tensor<257xi32>)
  %y = moe.combine %rows, %map, %w
      : (tensor<32768x7168xbf16>, tensor<4096x8xi32>, tensor<4096x8xf32>) -> tensor<4096x7168xbf16>
  return %y : tensor<4096x7168xbf16>
}

// -----

// A layout already there is reused; without a permute only rows are known;
// a dynamic batch has no totals.
// CHECK-LABEL: func.func @reuse
// CHECK-COUNT-1: moe.dispatch_layout
// CHECK-NOT: moe.dispatch_layout
func.func @reuse(%s: tensor<?x64xf32>) -> tensor<16xi32> {
  // expected-remark @+1 {{dispatch plan on 2 nodes x 4 GPUs x 8 experts: a token reaches at most 1 nodes (group_topk = 1 of 4 groups, 2 per node) and 4 GPUs; per token it sends 1 rows to nodes with the limit, 2 rows node-deduplicated without it, 6 rows once per expert}}
  %ids, %w = moe.route %s k = 6 groups = 4 group_topk = 1
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 4, experts_per_gpu = 8>}
      : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 4, experts_per_gpu = 8>
      : tensor<?x6xi32> -> tensor<64xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>
  %c = arith.constant dense<0> : tensor<16xi32>
  return %c : tensor<16xi32>
}

// -----

// No topology and no options: nothing to plan.
// CHECK-LABEL: func.func @no_topology
// CHECK-NOT: moe.dispatch_layout
// CHECK: return
func.func @no_topology(%s: tensor<?x32xf32>) -> tensor<?x4xi32> {
  %ids, %w = moe.route %s k = 4 groups = 4 group_topk = 2 : (tensor<?x32xf32>) -> (tensor<?x4xi32>, tensor<?x4xf32>)
  return %ids : tensor<?x4xi32>
}

// -----

// DeepSeek-V2: 160 experts, 8 devices (groups), 3 per token: 3 devices
// across 1 node each when there are 8 nodes of 1 GPU and a limit of 3.
// CHECK-LABEL: func.func @v2
// CHECK: moe.dispatch_layout %{{.*}} topology <nodes = 8, gpus_per_node = 1, experts_per_gpu = 20, node_limit = 3>
func.func @v2(%s: tensor<?x160xf32>) -> tensor<?x6xi32> {
  // expected-remark @+1 {{a token reaches at most 3 nodes (group_topk = 3 of 8 groups, 1 per node) and 3 GPUs}}
  %ids, %w = moe.route %s k = 6 groups = 8 group_topk = 3
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 1, experts_per_gpu = 20, node_limit = 3>}
      : (tensor<?x160xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids : tensor<?x6xi32>
}

// -----

// The node limit must be guaranteed by the group limit.
func.func @not_limited(%s: tensor<?x256xf32>) -> tensor<?x8xi32> {
  // expected-error @+1 {{'moe.route' op does not guarantee the topology's node_limit (4): a token may reach 8 of the 8 nodes (k = 8, no group limit); route with 'groups' a multiple of the nodes and 'group_topk' <= 4}}
  %ids, %w = moe.route %s k = 8
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>}
      : (tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}

// -----

func.func @too_many_groups_per_token(%s: tensor<?x256xf32>) -> tensor<?x8xi32> {
  // expected-error @+1 {{'moe.route' op does not guarantee the topology's node_limit (3): a token may reach 4 of the 8 nodes (group_topk = 4 of 8 groups, 1 per node)}}
  %ids, %w = moe.route %s k = 8 groups = 8 group_topk = 4
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 3>}
      : (tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}

// -----

// Groups spanning two nodes each: 2 groups reach up to 4 nodes.
func.func @wide_groups(%s: tensor<?x256xf32>) -> tensor<?x8xi32> {
  // expected-error @+1 {{'moe.route' op does not guarantee the topology's node_limit (2): a token may reach 4 of the 8 nodes (group_topk = 2 of 4 groups, each over 2 nodes)}}
  %ids, %w = moe.route %s k = 8 groups = 4 group_topk = 2
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 2>}
      : (tensor<?x256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}

// -----

func.func @wrong_experts(%s: tensor<?x128xf32>) -> tensor<?x8xi32> {
  // expected-error @+1 {{'moe.route' op topology holds 256 experts but the routing chooses among 128}}
  %ids, %w = moe.route %s k = 8
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4>}
      : (tensor<?x128xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}

// -----

func.func @not_a_topology(%s: tensor<?x128xf32>) -> tensor<?x8xi32> {
  // expected-error @+1 {{'moe.route' op 'moe.topology' must be a #moe.topology}}
  %ids, %w = moe.route %s k = 8 {moe.topology = 8 : i64}
      : (tensor<?x128xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %ids : tensor<?x8xi32>
}

// -----

// A dynamic hidden size has no row bytes: rows only (found by moe-fuzz:
// test/Fuzz/regressions/plan-dispatch-dynamic-hidden.mlir).
// CHECK-LABEL: func.func @dynamic_hidden
func.func @dynamic_hidden(%x: tensor<4x?xbf16>, %s: tensor<4x8xf32>) -> tensor<4x?xbf16> {
  // expected-remark @+1 {{dispatch plan on 2 nodes x 2 GPUs x 2 experts: a token reaches at most 2 nodes (k = 2, no group limit) and 2 GPUs; per token it sends 2 rows to nodes with the limit, 2 rows node-deduplicated without it, 2 rows once per expert; for the 4 tokens: 8 rows vs 8 rows vs 8 rows}}
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<4x?xbf16>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x?xbf16>, tensor<4x2xi32>, tensor<9xi32>)
  %y = moe.combine %rows, %map, %w
      : (tensor<8x?xbf16>, tensor<4x2xi32>, tensor<4x2xf32>) -> tensor<4x?xbf16>
  return %y : tensor<4x?xbf16>
}

// -----

// FP8 rows are 7168 e4m3 bytes plus 56 f32 group scales: 7392 bytes, just
// over half of bf16's 14336.
// CHECK-LABEL: func.func @v3_fp8
func.func @v3_fp8(%x: tensor<4096x7168xf8E4M3FN>, %xs: tensor<4096x56xf32>, %s: tensor<4096x256xf32>, %b: tensor<256xf32>) -> tensor<32768x7168xf8E4M3FN> {
  // expected-remark @+1 {{per token it sends 4 rows (29568 bytes) to nodes with the limit, 8 rows (59136 bytes) node-deduplicated without it, 8 rows (59136 bytes) once per expert; for the 4096 tokens: 16384 rows (121110528 bytes) vs 32768 rows (242221056 bytes) vs 32768 rows (242221056 bytes)}}
  %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4 group_score = topk_sum<2> normalize scale = 2.5
      {moe.topology = #moe.topology<nodes = 8, gpus_per_node = 8, experts_per_gpu = 4, node_limit = 4>}
      : (tensor<4096x256xf32>, tensor<256xf32>) -> (tensor<4096x8xi32>, tensor<4096x8xf32>)
  %rows, %map, %off, %rs = moe.permute %x scales %xs, %ids, %w
      : (tensor<4096x7168xf8E4M3FN>, tensor<4096x56xf32>, tensor<4096x8xi32>, tensor<4096x8xf32>)
        -> (tensor<32768x7168xf8E4M3FN>, tensor<4096x8xi32>, tensor<257xi32>, tensor<32768x56xf32>)
  return %rows : tensor<32768x7168xf8E4M3FN>
}
