// RUN: moe-opt %s --split-input-file --verify-diagnostics
// Every verifier rule of the moe dialect, one case per message.

//===----------------------------------------------------------------------===//
// moe.gate
//===----------------------------------------------------------------------===//

func.func @gate_hidden_mismatch(%x: tensor<4x64xf32>, %w: tensor<8x32xf32>) {
  // expected-error @+1 {{'weight' dim 1 (32) must equal 'input' dim 1 (64)}}
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x32xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @gate_dtype_mismatch(%x: tensor<4x64xbf16>, %w: tensor<8x64xf32>) {
  // expected-error @+1 {{element type of 'weight' ('f32') must equal that of 'input' ('bf16')}}
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @gate_result_experts(%x: tensor<4x64xf32>, %w: tensor<8x64xf32>) {
  // expected-error @+1 {{'logits' dim 1 (16) must equal 'weight' dim 0 (8)}}
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x64xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @gate_result_tokens(%x: tensor<4x64xf32>, %w: tensor<8x64xf32>) {
  // expected-error @+1 {{'logits' dim 0 (5) must equal 'input' dim 0 (4)}}
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<8x64xf32> -> tensor<5x8xf32>
  return
}

// -----

func.func @gate_dynamic_experts(%x: tensor<4x64xf32>, %w: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' dim 0 must be static (the number of experts)}}
  %z = moe.gate %x, %w : tensor<4x64xf32>, tensor<?x64xf32> -> tensor<4x?xf32>
  return
}

// -----

func.func @gate_result_dtype(%x: tensor<4x64xbf16>, %w: tensor<8x64xbf16>) {
  // expected-error @+1 {{'moe.gate' op router logits are f32 or the input's element type ('bf16'), got 'f16'}}
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xbf16> -> tensor<4x8xf16>
  return
}

// -----

func.func @gate_result_int(%x: tensor<4x64xbf16>, %w: tensor<8x64xbf16>) {
  // expected-error @+1 {{result #0 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %z = moe.gate %x, %w : tensor<4x64xbf16>, tensor<8x64xbf16> -> tensor<4x8xi32>
  return
}

// -----

func.func @layer_logits_type(%x: tensor<?x64xbf16>, %r: tensor<8x64xbf16>, %gu: tensor<8x64x64xbf16>, %d: tensor<8x64x32xbf16>) {
  // expected-error @+1 {{'moe.layer' op router logits are f32 or the input's element type ('bf16'), got 'f16'}}
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 logits = f16
      : (tensor<?x64xbf16>, tensor<8x64xbf16>, tensor<8x64x64xbf16>, tensor<8x64x32xbf16>) -> tensor<?x64xbf16>
  return
}

// -----

func.func @gate_int_input(%x: tensor<4x64xi32>, %w: tensor<8x64xi32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %z = moe.gate %x, %w : tensor<4x64xi32>, tensor<8x64xi32> -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.score
//===----------------------------------------------------------------------===//

// -----

func.func @score_shape(%z: tensor<4x8xf32>) {
  // expected-error @+1 {{'scores' dim 1 (9) must equal 'logits' dim 1 (8)}}
  %s = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x9xf32>
  return
}

// -----

func.func @score_dynamic_experts(%z: tensor<4x?xf32>) {
  // expected-error @+1 {{'logits' dim 1 must be static (the number of experts)}}
  %s = moe.score sigmoid %z : tensor<4x?xf32> -> tensor<4x?xf32>
  return
}

// -----

func.func @score_func_keyword(%z: tensor<4x8xf32>) {
  // expected-error @+1 {{expected 'sigmoid' or 'softmax', got 'tanh'}}
  %s = moe.score tanh %z : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.route
//===----------------------------------------------------------------------===//

// -----

func.func @route_groups_divide(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'groups' (3) must divide the number of experts (8)}}
  %ids, %w = moe.route %s k = 2 groups = 3
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

// Expert ids are i32 (a tensor of 2^31 f32 scores is within the size bound).
func.func @route_experts_i32(%s: tensor<1x2147483648xf32>) {
  // expected-error @+1 {{the number of experts (2147483648) must fit the i32 expert ids}}
  %ids, %w = moe.route %s k = 2
      : (tensor<1x2147483648xf32>) -> (tensor<1x2xi32>, tensor<1x2xf32>)
  return
}

// -----

func.func @route_groups_positive(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'groups' (0) must be at least 1}}
  %ids, %w = moe.route %s k = 2 groups = 0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_group_topk_large(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'group_topk' (3) must be in [1, groups = 2]}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 3
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_group_topk_zero(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'group_topk' (0) must be in [1, groups = 2]}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_k_unreachable(%s: tensor<4x256xf32>) {
  // 4 groups of 32 experts hold 64 experts, fewer than k = 65.
  // expected-error @+1 {{'k' (65) must be in [1, 64], the experts reachable in group_topk = 2 groups of 32}}
  %ids, %w = moe.route %s k = 65 groups = 8 group_topk = 2
      : (tensor<4x256xf32>) -> (tensor<4x65xi32>, tensor<4x65xf32>)
  return
}

// -----

func.func @route_k_zero(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'k' (0) must be in [1, 8], the experts reachable in group_topk = 1 groups of 8}}
  %ids, %w = moe.route %s k = 0
      : (tensor<4x8xf32>) -> (tensor<4x0xi32>, tensor<4x0xf32>)
  return
}

// -----

func.func @route_k_too_many(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'k' (9) must be in [1, 8]}}
  %ids, %w = moe.route %s k = 9
      : (tensor<4x8xf32>) -> (tensor<4x9xi32>, tensor<4x9xf32>)
  return
}

// -----

func.func @route_topk_sum_too_large(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'group_score' topk_sum<5> must sum at most the 4 experts of a group}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 1 group_score = topk_sum<5>
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_topk_sum_zero(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'group_score' topk_sum<0> must sum at least 1 score per group}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 1 group_score = topk_sum<0>
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_group_score_keyword(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{expected group score 'max' or 'topk_sum<n>', got 'mean'}}
  %ids, %w = moe.route %s k = 2 groups = 2 group_topk = 1 group_score = mean
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_scale_zero(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'scale' (0.000000e+00) must be finite and positive}}
  %ids, %w = moe.route %s k = 2 scale = 0.0
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_scale_inf(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'scale' (INF) must be finite and positive}}
  %ids, %w = moe.route %s k = 2 scale = 0x7F800000
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_bias_shape(%s: tensor<4x8xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'bias' dim 0 (16) must equal the number of experts (8)}}
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<16xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_bias_dtype(%s: tensor<4x8xf32>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{operand #1 must be 1D tensor of 32-bit float values}}
  %ids, %w = moe.route %s bias %b k = 2
      : (tensor<4x8xf32>, tensor<8xbf16>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_ids_k(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'ids' dim 1 (3) must equal 'k' (2)}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x3xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_ids_dynamic_k(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'ids' dim 1 must be static ('k', 2)}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x?xi32>, tensor<4x2xf32>)
  return
}

// -----

// A token count static in the scores is static in the results too: the
// lowerings keep the declared types.
func.func @route_ids_dynamic_tokens(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'ids' dim 0 is dynamic but 'scores' dim 0 is static (4): a size is static everywhere or nowhere}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return
}

// -----

func.func @permute_rows_dynamic_static_tokens(%x: tensor<16x64xbf16>, %ids: tensor<16x2xi32>, %w: tensor<16x2xf32>) {
  // expected-error @+1 {{'rows' dim 0 must be static}}
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>)
        -> (tensor<?x64xbf16>, tensor<16x2xi32>, tensor<9xi32>)
  return
}

// -----

// The other way round: a static row count for a dynamic token count (found
// by moe-fuzz: test/Fuzz/regressions/permute-static-rows.mlir; the CPU
// lowering produced invalid IR from it).
func.func @permute_rows_static_dynamic_tokens(%x: tensor<?x64xbf16>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>) {
  // expected-error @+1 {{'rows' dim 0 (32) must be dynamic like tokens x k}}
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<32x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_map_dynamic_static_tokens(%x: tensor<16x64xbf16>, %ids: tensor<16x2xi32>, %w: tensor<16x2xf32>) {
  // expected-error @+1 {{'row_map' dim 0 is dynamic but}}
  %rows, %map, %off = moe.permute %x, %ids, %w
      : (tensor<16x64xbf16>, tensor<16x2xi32>, tensor<16x2xf32>)
        -> (tensor<32x64xbf16>, tensor<?x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @route_weights_tokens(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{'weights' dim 0 (5) must equal 'scores' dim 0 (4)}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<5x2xf32>)
  return
}

// -----

func.func @route_scores_dtype(%s: tensor<4x8xbf16>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float values}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xbf16>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @route_ids_dtype(%s: tensor<4x8xf32>) {
  // expected-error @+1 {{result #0 must be 2D tensor of 32-bit signless integer values}}
  %ids, %w = moe.route %s k = 2
      : (tensor<4x8xf32>) -> (tensor<4x2xi64>, tensor<4x2xf32>)
  return
}

//===----------------------------------------------------------------------===//
// moe.expert_counts, moe.dispatch_layout
//===----------------------------------------------------------------------===//

// -----

func.func @counts_dynamic(%ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'counts' dim 0 must be static (the number of experts)}}
  %c = moe.expert_counts %ids : tensor<4x2xi32> -> tensor<?xi32>
  return
}

// -----

func.func @layout_experts(%ids: tensor<3x4xi32>) {
  // expected-error @+1 {{'tokens_per_expert' dim 0 (16) must equal the experts of the topology (32)}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<16xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

func.func @layout_ranks(%ids: tensor<3x4xi32>) {
  // expected-error @+1 {{'tokens_per_rank' dim 0 (8) must equal the ranks of the topology (16)}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

func.func @layout_nodes(%ids: tensor<3x4xi32>) {
  // expected-error @+1 {{'tokens_per_node' dim 0 (3) must equal the nodes of the topology (2)}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<3xi32>, tensor<3x16xi1>
  return
}

// -----

func.func @layout_in_rank(%ids: tensor<3x4xi32>) {
  // expected-error @+1 {{'is_token_in_rank' dim 1 (8) must equal the ranks of the topology (16)}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x8xi1>
  return
}

// -----

func.func @layout_in_rank_tokens(%ids: tensor<3x4xi32>) {
  // expected-error @+1 {{'is_token_in_rank' dim 0 (4) must equal 'ids' dim 0 (3)}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<4x16xi1>
  return
}

// -----

func.func @topology_nodes(%ids: tensor<3x4xi32>) {
  // expected-error @+2 {{topology 'nodes' (0) must be at least 1}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 0, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

func.func @topology_gpus(%ids: tensor<3x4xi32>) {
  // expected-error @+2 {{topology 'gpus_per_node' (-1) must be at least 1}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = -1, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

func.func @topology_experts_per_gpu(%ids: tensor<3x4xi32>) {
  // expected-error @+2 {{topology 'experts_per_gpu' (0) must be at least 1}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 0>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

// Found by moe-fuzz (test/Fuzz/regressions/topology-overflow.mlir): the
// products of the fields overflowed int64 in the verifiers.
func.func @topology_overflow(%ids: tensor<3x4xi32>) {
  // expected-error @+2 {{topology of 2147483647 x 8 x 2147483647 experts must fit the i32 expert ids}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2147483647, gpus_per_node = 8, experts_per_gpu = 2147483647>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2147483647xi32>, tensor<4x16xi1>
  return
}

// -----

func.func @topology_node_limit(%ids: tensor<3x4xi32>) {
  // expected-error @+2 {{topology 'node_limit' (3) must be in [1, nodes = 2]}}
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2, node_limit = 3>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

//===----------------------------------------------------------------------===//
// moe.permute
//===----------------------------------------------------------------------===//

// -----

func.func @permute_capacity(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'capacity_factor' (-1.000000e+00) must be finite and positive}}
  %r, %m, %o = moe.permute %x, %ids, %w capacity_factor = -1.0
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_policy_without_capacity(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'drop_policy' requires 'capacity_factor'}}
  %r, %m, %o = moe.permute %x, %ids, %w drop position
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_policy_keyword(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{expected 'probs' or 'position', got 'random'}}
  %r, %m, %o = moe.permute %x, %ids, %w capacity_factor = 1.0 drop random
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_rows(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'rows' dim 0 (4) must equal tokens x k (8)}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<4x16xf32>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_offsets(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'offsets' dim 0 (1) must be the number of experts + 1, at least 2}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<1xi32>)
  return
}

// -----

func.func @permute_offsets_dynamic(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'offsets' dim 0 must be static (the number of experts + 1)}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<?xi32>)
  return
}

// -----

func.func @permute_rows_dtype(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{element type of 'rows' ('bf16') must equal that of 'input' ('f32')}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
        -> (tensor<8x16xbf16>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_weights_shape(%x: tensor<4x16xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{'weights' dim 1 (3) must equal 'ids' dim 1 (2)}}
  %r, %m, %o = moe.permute %x, %ids, %w
      : (tensor<4x16xf32>, tensor<4x2xi32>, tensor<4x3xf32>)
        -> (tensor<8x16xf32>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

//===----------------------------------------------------------------------===//
// moe.expert_ffn
//===----------------------------------------------------------------------===//

// -----

func.func @ffn_width(%r: tensor<8x16xf32>, %o: tensor<5xi32>, %gu: tensor<4x10x16xf32>, %d: tensor<4x16x6xf32>) {
  // expected-error @+1 {{'gate_up' dim 1 (10) must be twice 'down' dim 2 (6): gate rows then up rows}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<5xi32>, tensor<4x10x16xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @ffn_offsets(%r: tensor<8x16xf32>, %o: tensor<4xi32>, %gu: tensor<4x12x16xf32>, %d: tensor<4x16x6xf32>) {
  // expected-error @+1 {{'offsets' dim 0 (4) must equal the number of experts + 1 (5)}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<4xi32>, tensor<4x12x16xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @ffn_no_offsets(%r: tensor<8x16xf32>, %gu: tensor<4x12x16xf32>, %d: tensor<4x16x6xf32>) {
  // expected-error @+1 {{without 'offsets' the weights must hold exactly one expert, not 4}}
  %y = moe.expert_ffn %r weights %gu, %d
      : (tensor<8x16xf32>, tensor<4x12x16xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @ffn_hidden(%r: tensor<8x16xf32>, %o: tensor<5xi32>, %gu: tensor<4x12x32xf32>, %d: tensor<4x16x6xf32>) {
  // expected-error @+1 {{'gate_up' dim 2 (32) must equal 'rows' dim 1 (16)}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<5xi32>, tensor<4x12x32xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @ffn_experts(%r: tensor<8x16xf32>, %o: tensor<5xi32>, %gu: tensor<4x12x16xf32>, %d: tensor<3x16x6xf32>) {
  // expected-error @+1 {{'down' dim 0 (3) must equal 'gate_up' dim 0 (4)}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<5xi32>, tensor<4x12x16xf32>, tensor<3x16x6xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @ffn_weight_dtype(%r: tensor<8x16xbf16>, %o: tensor<5xi32>, %gu: tensor<4x12x16xf32>, %d: tensor<4x16x6xbf16>) {
  // expected-error @+1 {{element type of 'gate_up' ('f32') must equal that of 'rows' ('bf16')}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xbf16>, tensor<5xi32>, tensor<4x12x16xf32>, tensor<4x16x6xbf16>) -> tensor<8x16xbf16>
  return
}

// -----

func.func @ffn_dynamic_width(%r: tensor<8x16xf32>, %o: tensor<5xi32>, %gu: tensor<4x?x16xf32>, %d: tensor<4x16x6xf32>) {
  // expected-error @+1 {{'gate_up' dim 1 must be static (twice the FFN width)}}
  %y = moe.expert_ffn %r offsets %o weights %gu, %d
      : (tensor<8x16xf32>, tensor<5xi32>, tensor<4x?x16xf32>, tensor<4x16x6xf32>) -> tensor<8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.combine
//===----------------------------------------------------------------------===//

// -----

func.func @combine_tokens(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'output' dim 0 (3) must equal 'row_map' dim 0 (4)}}
  %y = moe.combine %h, %m, %w
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> tensor<3x16xf32>
  return
}

// -----

func.func @combine_shared(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x2xf32>, %s: tensor<4x32xf32>) {
  // expected-error @+1 {{'shared' dim 1 (32) must equal 'output' dim 1 (16)}}
  %y = moe.combine %h, %m, %w shared %s
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x32xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @combine_shared_dtype(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x2xf32>, %s: tensor<4x16xbf16>) {
  // expected-error @+1 {{element type of 'shared' ('bf16') must equal that of 'expert_out' ('f32')}}
  %y = moe.combine %h, %m, %w shared %s
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x2xf32>, tensor<4x16xbf16>) -> tensor<4x16xf32>
  return
}

// -----

func.func @combine_weights(%h: tensor<8x16xf32>, %m: tensor<4x2xi32>, %w: tensor<4x1xf32>) {
  // expected-error @+1 {{'weights' dim 1 (1) must equal 'row_map' dim 1 (2)}}
  %y = moe.combine %h, %m, %w
      : (tensor<8x16xf32>, tensor<4x2xi32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.balance_loss, moe.balance_loss_grad, #moe.loss
//===----------------------------------------------------------------------===//

// -----

func.func @loss_alpha(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss 'alpha' (-1.000000e+00) must be finite and non-negative}}
  %l = moe.balance_loss %s, %ids <expert, alpha = -1.0> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_alpha_nan(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss 'alpha' (nan) must be finite and non-negative}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0x7FC00000> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_seq_len(%s: tensor<6x8xf32>, %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{loss 'seq_len' (4) must divide the number of tokens (6)}}
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, seq_len = 4> : tensor<6x8xf32>, tensor<6x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_seq_len_negative(%s: tensor<6x8xf32>, %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{loss 'seq_len' (-2) must be at least 1}}
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, seq_len = -2> : tensor<6x8xf32>, tensor<6x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_device_needs_devices(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'device' loss requires 'devices'}}
  %l = moe.balance_loss %s, %ids <device, alpha = 0.05> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_devices_negative(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss 'devices' (-2) must be at least 1}}
  %l = moe.balance_loss %s, %ids <device, alpha = 0.05, devices = -2> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_devices_unused(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'devices' is only used by device and comm losses}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05, devices = 2> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_comm_needs_limit(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'comm' loss requires 'device_limit'}}
  %l = moe.balance_loss %s, %ids <comm, alpha = 0.02, devices = 2> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_limit_unused(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'device_limit' is only used by the comm loss}}
  %l = moe.balance_loss %s, %ids <device, alpha = 0.02, devices = 2, device_limit = 1> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_limit_range(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss 'device_limit' (3) must be in [1, devices = 2]}}
  %l = moe.balance_loss %s, %ids <comm, alpha = 0.02, devices = 2, device_limit = 3> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_devices_divide(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss 'devices' (3) must divide the number of experts (8)}}
  %l = moe.balance_loss %s, %ids <device, alpha = 0.05, devices = 3> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_k_too_large(%s: tensor<4x8xf32>, %ids: tensor<4x9xi32>) {
  // expected-error @+1 {{K (9) must not exceed the number of experts (8)}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<4x9xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_tokens(%s: tensor<4x8xf32>, %ids: tensor<5x2xi32>) {
  // expected-error @+1 {{'ids' dim 0 (5) must equal 'scores' dim 0 (4)}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<5x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_unknown_kind(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{expected loss kind 'sequence', 'expert', 'device' or 'comm', got 'z_loss'}}
  %l = moe.balance_loss %s, %ids <z_loss, alpha = 0.05> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_unknown_param(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{unknown loss parameter 'beta' (expected counts, seq_len, devices or device_limit)}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05, beta = 2> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_duplicate_param(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{loss parameter 'seq_len' given twice}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05, seq_len = 2, seq_len = 4> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_count_source(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{expected count source 'selected' or 'topk', got 'biased'}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05, counts = biased> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

// -----

func.func @loss_result_type(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{result #0 must be 0D tensor of 32-bit float values}}
  %l = moe.balance_loss %s, %ids <expert, alpha = 0.05> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<1xf32>
  return
}

// -----

func.func @loss_grad_shape(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  // expected-error @+1 {{'grad' dim 1 (4) must equal 'scores' dim 1 (8)}}
  %g = moe.balance_loss_grad sigmoid %s, %ids <expert, alpha = 0.05>
      : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<4x4xf32>
  return
}

// -----

func.func @loss_grad_seq_len(%s: tensor<6x8xf32>, %ids: tensor<6x2xi32>) {
  // expected-error @+1 {{loss 'seq_len' (4) must divide the number of tokens (6)}}
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 0.05, seq_len = 4>
      : tensor<6x8xf32>, tensor<6x2xi32> -> tensor<6x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// moe.bias_update
//===----------------------------------------------------------------------===//

// -----

func.func @bias_rate(%b: tensor<8xf32>, %c: tensor<8xi32>) {
  // expected-error @+1 {{'rate' (-1.000000e-03) must be finite and non-negative}}
  %b2 = moe.bias_update %b, %c rate = -1.0e-3 : tensor<8xf32>, tensor<8xi32>
  return
}

// -----

func.func @bias_counts(%b: tensor<8xf32>, %c: tensor<4xi32>) {
  // expected-error @+1 {{'counts' dim 0 (4) must equal 'bias' dim 0 (8)}}
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<8xf32>, tensor<4xi32>
  return
}

// -----

func.func @bias_dynamic(%b: tensor<?xf32>, %c: tensor<?xi32>) {
  // expected-error @+1 {{'bias' dim 0 must be static (the number of experts)}}
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<?xf32>, tensor<?xi32>
  return
}

//===----------------------------------------------------------------------===//
// moe.layer
//===----------------------------------------------------------------------===//

// -----

func.func @layer_groups(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'groups' (3) must divide the number of experts (8)}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 groups = 3
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_k(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'k' (3) must be in [1, 2], the experts reachable in group_topk = 1 groups of 2}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 3 groups = 4 group_topk = 1
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_capacity(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'capacity_factor' (0.000000e+00) must be finite and positive}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 capacity_factor = 0.0
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_policy(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'drop_policy' requires 'capacity_factor'}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 drop position
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_router_dtype(%x: tensor<4x16xbf16>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xbf16>, %d: tensor<8x16x6xbf16>) {
  // expected-error @+1 {{element type of 'router' ('f32') must equal that of 'input' ('bf16')}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xbf16>, tensor<8x16xf32>, tensor<8x12x16xbf16>, tensor<8x16x6xbf16>) -> tensor<4x16xbf16>
  return
}

// -----

func.func @layer_expert_count(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<4x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'gate_up' dim 0 (4) must equal the number of experts (8)}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<4x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_width(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x10x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'gate_up' dim 1 (10) must be twice 'down' dim 2 (6): gate rows then up rows}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x10x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_bias(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %b: tensor<4xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'bias' dim 0 (4) must equal the number of experts (8)}}
  %y = moe.layer %x router %r bias %b experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<4xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_shared_count(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>,
                              %sgu: tensor<2x12x16xf32>, %sd: tensor<2x16x6xf32>) {
  // expected-error @+1 {{'shared_gate_up' dim 0 (2) must equal 1, one fused shared FFN (1)}}
  %y = moe.layer %x router %r experts %gu, %d shared %sgu, %sd score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>,
         tensor<2x12x16xf32>, tensor<2x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_shared_width(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>,
                              %sgu: tensor<1x12x16xf32>, %sd: tensor<1x16x8xf32>) {
  // expected-error @+1 {{'shared_gate_up' dim 1 (12) must be twice 'shared_down' dim 2 (8)}}
  %y = moe.layer %x router %r experts %gu, %d shared %sgu, %sd score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>,
         tensor<1x12x16xf32>, tensor<1x16x8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_topology_experts(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{topology holds 2 nodes x 2 GPUs x 1 experts = 4 experts, but there are 8}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      topology <nodes = 2, gpus_per_node = 2, experts_per_gpu = 1>
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_node_limit_groups(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // Ungrouped routing may reach every node.
  // expected-error @+1 {{topology 'node_limit' (1) is not guaranteed: 'groups' (1) must be a multiple of the 4 nodes so that each group lies within one node}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      topology <nodes = 4, gpus_per_node = 1, experts_per_gpu = 2, node_limit = 1>
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_node_limit_topk(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{topology 'node_limit' (1) is not guaranteed: 'group_topk' (2) must not exceed it}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 groups = 4 group_topk = 2
      topology <nodes = 4, gpus_per_node = 1, experts_per_gpu = 2, node_limit = 1>
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_loss_results(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{expects one loss result per entry of 'losses' (2), got 1}}
  %y, %l = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      losses [#moe.loss<expert, alpha = 0.1>, #moe.loss<device, alpha = 0.1, devices = 2>]
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> (tensor<4x16xf32>, tensor<f32>)
  return
}

// -----

func.func @layer_loss_seq_len(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{loss 'seq_len' (3) must divide the number of tokens (4)}}
  %y, %l = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      losses [#moe.loss<sequence, alpha = 0.1, seq_len = 3>]
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> (tensor<4x16xf32>, tensor<f32>)
  return
}

// -----

func.func @layer_losses_not_losses(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{attribute 'losses' failed to satisfy constraint: array of balance-loss configurations}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 losses [1 : i64]
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @layer_output(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  // expected-error @+1 {{'output' dim 1 (8) must equal 'input' dim 1 (16)}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x8xf32>
  return
}

// -----

// Sizes: no tensor takes more than 2^48 bytes, so no size arithmetic of a
// verifier or lowering can overflow.
func.func @score_overflowing_bytes(%z: tensor<4611686018427387904x256xf32>) {
  // expected-error @+1 {{'moe.score' op operand #0 (4611686018427387904x256xf32) has more bytes than a 64-bit integer holds; the most a tensor may take is 281474976710656 bytes (2^48)}}
  %s = moe.score sigmoid %z : tensor<4611686018427387904x256xf32> -> tensor<4611686018427387904x256xf32>
  return
}

// -----

// An empty tensor cannot hide a huge dimension either (found by moe-fuzz:
// test/Fuzz/regressions/layer-empty-huge-dim.mlir; 2 x the width overflowed).
func.func @layer_empty_huge_dim(%x: tensor<4x0xf32>, %r: tensor<8x0xf32>, %gu: tensor<8x12x0xf32>, %d: tensor<8x0x9223372036854775807xf32>) {
  // expected-error @+1 {{'moe.layer' op operand #3 (8x0x9223372036854775807xf32) has more bytes than a 64-bit integer holds with its empty dimensions counted as one; the most a tensor may take is 281474976710656 bytes (2^48)}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x0xf32>, tensor<8x0xf32>, tensor<8x12x0xf32>, tensor<8x0x9223372036854775807xf32>) -> tensor<4x0xf32>
  return
}

// -----

func.func @route_too_large_result(%s: tensor<?x256xf32>) {
  // expected-error @+1 {{result #0 (?x140737488355328xi32) takes 562949953421312 bytes}}
  %ids, %w = moe.route %s k = 140737488355328
      : (tensor<?x256xf32>) -> (tensor<?x140737488355328xi32>, tensor<?x140737488355328xf32>)
  return
}

// -----

func.func @layer_rows_too_large(%x: tensor<8589934592x7168xbf16>, %r: tensor<256x7168xbf16>,
    %gu: tensor<256x4096x7168xbf16>, %d: tensor<256x7168x2048xbf16>) {
  // expected-error @+1 {{the permuted rows (68719476736x7168xbf16) takes 985162418487296 bytes; the most a tensor may take is 281474976710656 bytes (2^48)}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 8
      : (tensor<8589934592x7168xbf16>, tensor<256x7168xbf16>, tensor<256x4096x7168xbf16>, tensor<256x7168x2048xbf16>) -> tensor<8589934592x7168xbf16>
  return
}

// -----

func.func @expert_ffn_intermediate_too_large(%rows: tensor<1048576x16xbf16>,
    %gu: tensor<1x536870912x16xbf16>, %d: tensor<1x16x268435456xbf16>) {
  // expected-error @+1 {{the intermediate h (1048576x268435456xbf16) takes 562949953421312 bytes}}
  %y = moe.expert_ffn %rows weights %gu, %d
      : (tensor<1048576x16xbf16>, tensor<1x536870912x16xbf16>, tensor<1x16x268435456xbf16>) -> tensor<1048576x16xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// moe.quantize
//===----------------------------------------------------------------------===//

func.func @quantize_group_divides(%x: tensor<4x200xf32>) {
  // expected-error @+1 {{'group' (128) must divide the input's width (200)}}
  %q, %s = moe.quantize %x group = 128 : tensor<4x200xf32> -> tensor<4x200xf8E4M3FN>, tensor<4x1xf32>
  return
}

// -----

func.func @quantize_group_positive(%x: tensor<4x256xf32>) {
  // expected-error @+1 {{attribute 'group' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %q, %s = moe.quantize %x group = 0 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_scales(%x: tensor<4x256xf32>) {
  // expected-error @+1 {{'scales' dim 1 (3) must equal the groups per token (2)}}
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x256xf8E4M3FN>, tensor<4x3xf32>
  return
}

// -----

func.func @quantize_tokens(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{'input' dim 0 is dynamic but 'scales' dim 0 is static (4): a size is static everywhere or nowhere}}
  %q, %s = moe.quantize %x group = 128 : tensor<?x256xf32> -> tensor<?x256xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_values_shape(%x: tensor<4x256xf32>) {
  // expected-error @+1 {{'values' dim 1 (128) must equal 'input' dim 1 (256)}}
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x128xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_width_static(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{'input' dim 1 must be static (the quantised width)}}
  %q, %s = moe.quantize %x group = 128 : tensor<4x?xf32> -> tensor<4x?xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @quantize_values_type(%x: tensor<4x256xf32>) {
  // expected-error @+1 {{result #0 must be 2D tensor of f8E4M3FN type values}}
  %q, %s = moe.quantize %x group = 128 : tensor<4x256xf32> -> tensor<4x256xbf16>, tensor<4x2xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// FP8: moe.permute with scales, moe.expert_ffn and moe.layer on e4m3
//===----------------------------------------------------------------------===//

func.func @permute_scales_need_fp8(%x: tensor<4x256xbf16>, %s: tensor<4x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'scales' are only for e4m3 (f8E4M3FN) input}}
  %rows, %map, %off, %rs = moe.permute %x scales %s, %ids, %w : (tensor<4x256xbf16>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xbf16>, tensor<4x2xi32>, tensor<9xi32>, tensor<8x2xf32>)
  return
}

// -----

func.func @permute_fp8_needs_scales(%x: tensor<4x256xf8E4M3FN>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{e4m3 'input' needs its 'scales' (one per token and group), which travel with the rows}}
  %rows, %map, %off = moe.permute %x, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_row_scales_result(%x: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{has a 'row_scales' result exactly when it has 'scales'}}
  %rows, %map, %off = moe.permute %x scales %s, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>)
  return
}

// -----

func.func @permute_scales_tokens(%x: tensor<4x256xf8E4M3FN>, %s: tensor<5x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'scales' dim 0 (5) must equal 'input' dim 0 (4)}}
  %rows, %map, %off, %rs = moe.permute %x scales %s, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<5x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>, tensor<8x2xf32>)
  return
}

// -----

func.func @permute_row_scales_rows(%x: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'row_scales' dim 0 (4) must equal 'rows' dim 0 (8)}}
  %rows, %map, %off, %rs = moe.permute %x scales %s, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>, tensor<4x2xf32>)
  return
}

// -----

func.func @permute_row_scales_groups(%x: tensor<4x256xf8E4M3FN>, %s: tensor<4x2xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{'row_scales' dim 1 (1) must equal 'scales' dim 1 (2)}}
  %rows, %map, %off, %rs = moe.permute %x scales %s, %ids, %w : (tensor<4x256xf8E4M3FN>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<4x2xf32>) -> (tensor<8x256xf8E4M3FN>, tensor<4x2xi32>, tensor<9xi32>, tensor<8x1xf32>)
  return
}

// -----

func.func @ffn_fp8_rows_need_scales(%x: tensor<8x256xf8E4M3FN>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{e4m3 'rows' need their 'scales' (one per row and group of 128)}}
  %y = moe.expert_ffn %x offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_row_scales_need_fp8(%x: tensor<8x256xbf16>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>) {
  // expected-error @+1 {{row 'scales' are only for e4m3 (f8E4M3FN) rows}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d : (tensor<8x256xbf16>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_ue8m0_needs_fp8(%x: tensor<8x256xbf16>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>) {
  // expected-error @+1 {{'ue8m0' (power-of-two scales for h) is only for e4m3 (f8E4M3FN) rows and weights}}
  %y = moe.expert_ffn %x offsets %off weights %gu, %d ue8m0 : (tensor<8x256xbf16>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_weight_scales_need_fp8(%x: tensor<8x256xbf16>, %off: tensor<5xi32>, %gu: tensor<4x256x256xbf16>, %d: tensor<4x256x128xbf16>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{'scales' are only for e4m3 (f8E4M3FN) weights; 'gate_up' is 'bf16'}}
  %y = moe.expert_ffn %x offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xbf16>, tensor<5xi32>, tensor<4x256x256xbf16>, tensor<4x256x128xbf16>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_mixed_weights(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xbf16>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{'down' must be e4m3 (f8E4M3FN) like the other FP8 operands, not 'bf16'}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xbf16>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_weights_need_scales(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>) {
  // expected-error @+1 {{e4m3 'gate_up' and 'down' need their block scales ('scales')}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_hidden_blocks(%x: tensor<8x200xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x200xf8E4M3FN>, %d: tensor<4x200x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{FP8 needs the hidden size (200) to be a multiple of 128: activations are quantised in groups of 128}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x200xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x200xf8E4M3FN>, tensor<4x200x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x200xbf16>
  return
}

// -----

func.func @ffn_fp8_width_blocks(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x192x256xf8E4M3FN>, %d: tensor<4x256x96xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{FP8 needs the expert width (96) to be a multiple of 128}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x192x256xf8E4M3FN>, tensor<4x256x96xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_gate_up_scale_rows(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x3x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{'gate_up_scales' dim 1 (3) must equal ceil('gate_up' dim 1 / 128) (2)}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x3x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_down_scale_experts(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<3x2x1xf32>) {
  // expected-error @+1 {{'down_scales' dim 0 (3) must equal 'down' dim 0 (4)}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<3x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_down_scale_cols(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x2xf32>) {
  // expected-error @+1 {{'down_scales' dim 2 (2) must equal ceil('down' dim 2 / 128) (1)}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x2xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_row_scales_groups(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x3xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{'scales' dim 1 (3) must equal the groups of 128 per row (2)}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<8x3xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_row_scales_rows(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<7x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>, %ds: tensor<4x2x1xf32>) {
  // expected-error @+1 {{'scales' dim 0 (7) must equal 'rows' dim 0 (8)}}
  %y = moe.expert_ffn %x scales %xs offsets %off weights %gu, %d scales %gus, %ds : (tensor<8x256xf8E4M3FN>, tensor<7x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>, tensor<4x2x1xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @ffn_fp8_gate_up_scales_only(%x: tensor<8x256xf8E4M3FN>, %xs: tensor<8x2xf32>, %off: tensor<5xi32>, %gu: tensor<4x256x256xf8E4M3FN>, %d: tensor<4x256x128xf8E4M3FN>, %gus: tensor<4x2x2xf32>) {
  // expected-error @+1 {{e4m3 'gate_up' and 'down' need their block scales ('scales')}}
  %y = "moe.expert_ffn"(%x, %xs, %off, %gu, %d, %gus) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>}> : (tensor<8x256xf8E4M3FN>, tensor<8x2xf32>, tensor<5xi32>, tensor<4x256x256xf8E4M3FN>, tensor<4x256x128xf8E4M3FN>, tensor<4x2x2xf32>) -> tensor<8x256xbf16>
  return
}

// -----

func.func @layer_ue8m0_needs_fp8(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xbf16>, %d: tensor<8x256x128xbf16>) {
  // expected-error @+1 {{'ue8m0' (power-of-two activation scales) is only for e4m3 (f8E4M3FN) expert weights}}
  %y = moe.layer %x router %r experts %gu, %d ue8m0 score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_fp8_needs_scales(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>) {
  // expected-error @+1 {{e4m3 'gate_up' and 'down' need their block scales ('scales')}}
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_fp8_hidden_blocks(%x: tensor<4x192xbf16>, %r: tensor<8x192xbf16>, %gu: tensor<8x256x192xf8E4M3FN>, %d: tensor<8x192x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>) {
  // expected-error @+1 {{FP8 needs the hidden size (192) to be a multiple of 128}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds score sigmoid k = 2 : (tensor<4x192xbf16>, tensor<8x192xbf16>, tensor<8x256x192xf8E4M3FN>, tensor<8x192x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>) -> tensor<4x192xbf16>
  return
}

// -----

func.func @layer_fp8_router_type(%x: tensor<4x256xbf16>, %r: tensor<8x256xf8E4M3FN>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>) {
  // expected-error @+1 {{operand #1 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_fp8_shared_bf16(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>, %sgu: tensor<1x256x256xbf16>, %sd: tensor<1x256x128xbf16>) {
  // expected-error @+1 {{'shared_gate_up' must be e4m3 (f8E4M3FN) like the other FP8 operands, not 'bf16'}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xbf16>, tensor<1x256x128xbf16>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_fp8_shared_needs_scales(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>, %sgu: tensor<1x256x256xf8E4M3FN>, %sd: tensor<1x256x128xf8E4M3FN>) {
  // expected-error @+1 {{e4m3 'shared_gate_up' and 'shared_down' need their block scales ('shared_scales')}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xf8E4M3FN>, tensor<1x256x128xf8E4M3FN>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_shared_scales_without_shared(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>) {
  // expected-error @+1 {{has 'shared_scales' but no shared expert weights}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared_scales %gus, %ds score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<8x2x2xf32>, tensor<8x2x1xf32>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_shared_scale_shape(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>, %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>, %sgu: tensor<1x512x256xf8E4M3FN>, %sd: tensor<1x256x256xf8E4M3FN>, %sgus: tensor<1x4x2xf32>, %sds: tensor<1x2x1xf32>) {
  // expected-error @+1 {{'shared_down_scales' dim 2 (1) must equal ceil('shared_down' dim 2 / 128) (2)}}
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd shared_scales %sgus, %sds score sigmoid k = 2 : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>, tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x512x256xf8E4M3FN>, tensor<1x256x256xf8E4M3FN>, tensor<1x4x2xf32>, tensor<1x2x1xf32>) -> tensor<4x256xbf16>
  return
}

// -----

func.func @layer_shared_down_missing(%x: tensor<4x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xbf16>, %d: tensor<8x256x128xbf16>, %sgu: tensor<1x256x256xbf16>) {
  // expected-error @+1 {{has both shared expert weights ('shared_gate_up' and 'shared_down') or neither}}
  %y = "moe.layer"(%x, %r, %gu, %d, %sgu) <{k = 2 : i64, score_func = #moe.score_func<sigmoid>, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0>}> : (tensor<4x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xbf16>, tensor<8x256x128xbf16>, tensor<1x256x256xbf16>) -> tensor<4x256xbf16>
  return
}
