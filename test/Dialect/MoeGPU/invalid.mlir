// RUN: moe-opt %s -split-input-file -verify-diagnostics
// Every diagnostic of the moegpu verifiers and attribute parsers, one case
// per message, and each kernel limit of KernelLimits.td a verifier checks.

//===----------------------------------------------------------------------===//
// Discardable attributes (MoeGPUDialect::verifyOperationAttribute,
// verifyRegionArgAttribute)
//===----------------------------------------------------------------------===//

// moegpu.target must hold a #moegpu.target.
// expected-error @+1 {{'moegpu.target' must be a #moegpu.target attribute}}
module attributes {moegpu.target = "sm_90a"} {
}

// -----

// moegpu.target belongs on a module, not on a function.
// expected-error @+1 {{'moegpu.target' belongs on a module}}
func.func @target_on_func() attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  return
}

// -----

// moegpu.static_tokens is a non-negative i64.
// expected-error @+1 {{'moegpu.static_tokens' must be a non-negative i64}}
func.func @static_tokens_negative() attributes {moegpu.static_tokens = -1 : i64} {
  return
}

// -----

// moegpu.workspace must hold a #moegpu.workspace.
// expected-error @+1 {{'moegpu.workspace' must be a #moegpu.workspace attribute}}
func.func @workspace_kind() attributes {moegpu.workspace = 4096 : i64} {
  return
}

// -----

// moegpu.workspace_size_of is a symbol reference.
// expected-error @+1 {{'moegpu.workspace_size_of' must name a launcher}}
func.func @workspace_size_of_kind() attributes {moegpu.workspace_size_of = "launcher"} {
  return
}

// -----

// No other moegpu.* attribute exists on ops.
// expected-error @+1 {{unknown moegpu attribute 'moegpu.tokens'}}
func.func @unknown_attr() attributes {moegpu.tokens = 4 : i64} {
  return
}

// -----

// moegpu.param is the only argument attribute.
// expected-error @+1 {{unknown moegpu argument attribute 'moegpu.role'}}
func.func @unknown_arg_attr(%x: index {moegpu.role = "input"}) {
  return
}

// -----

// moegpu.param must hold a #moegpu.param.
// expected-error @+1 {{argument #1 'moegpu.param' must be a #moegpu.param attribute}}
func.func @param_kind(%x: index, %y: index {moegpu.param = "num_tokens"}) {
  return
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

// -----

// A target must be one of KernelLimits.td.
func.func @target_unknown() attributes {
    // expected-error @+1 {{unknown target 'sm_70' (KernelLimits.td has sm_80, sm_86, sm_89, sm_90, sm_90a)}}
    t = #moegpu.target<"sm_70">} {
  return
}

// -----

// Regime bounds are row counts.
func.func @regimes_negative() attributes {
    // expected-error @+1 {{regime bound -1 must not be negative}}
    r = #moegpu.regimes<[-1 -> 2], 1>} {
  return
}

// -----

// Regime bounds increase strictly.
func.func @regimes_order() attributes {
    // expected-error @+1 {{regime bounds must increase (256 then 256)}}
    r = #moegpu.regimes<[128 -> 8, 256 -> 4, 256 -> 2], 1>} {
  return
}

// -----

// The GEMM family keyword.
func.func @gemm_family() attributes {
    // expected-error @+1 {{expected GEMM family 'wgmma' or 'mma_sync', got 'wmma'}}
    g = #moegpu.gemm<wmma, tile = [128, 256, 64], stages = 4, store = tma>} {
  return
}

// -----

// The GEMM store keyword.
func.func @gemm_store() attributes {
    // expected-error @+1 {{expected GEMM store 'tma' or 'registers', got 'shared'}}
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = shared>} {
  return
}

// -----

// A tile has three sizes.
func.func @gemm_tile_sizes() attributes {
    // expected-error @+1 {{a GEMM tile is [rows, weight rows, k], got 2 sizes}}
    g = #moegpu.gemm<wgmma, tile = [128, 256], stages = 4, store = tma>} {
  return
}

// -----

// The mma_sync GEMM has one tile shape.
func.func @mma_tile() attributes {
    // expected-error @+1 {{the mma_sync GEMM's tile is [128, 128, 32]}}
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 64], stages = 3, store = registers>} {
  return
}

// -----

// The mma_sync GEMM has a fixed pipeline depth.
func.func @mma_stages() attributes {
    // expected-error @+1 {{the mma_sync GEMM has 3 stages}}
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 4, store = registers>} {
  return
}

// -----

// The mma_sync GEMM has no TMA stores.
func.func @mma_store() attributes {
    // expected-error @+1 {{the mma_sync GEMM stores from registers}}
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = tma>} {
  return
}

// -----

// Only the wgmma GEMM splits K.
func.func @mma_split_k() attributes {
    // expected-error @+1 {{the mma_sync GEMM does not split K}}
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers,
                     split_k = #moegpu.regimes<[128 -> 2], 1>>} {
  return
}

// -----

// The wgmma GEMM takes 128 x 256 or 256 x 128 tiles of K 64.
func.func @wgmma_tile() attributes {
    // expected-error @+1 {{the wgmma GEMM's tile is [128, 256, 64] or [256, 128, 64]}}
    g = #moegpu.gemm<wgmma, tile = [128, 128, 64], stages = 4, store = tma>} {
  return
}

// -----

// A tile whose product overflows int64 (found by moe-fuzz:
// test/Fuzz/regressions/wgmma-tile-overflow.mlir).
func.func @wgmma_tile_overflow() attributes {
    // expected-error @+1 {{the wgmma GEMM's tile is [128, 256, 64] or [256, 128, 64]}}
    g = #moegpu.gemm<wgmma, tile = [128, 3074457345618258603, 64], stages = 4, store = tma>} {
  return
}

// -----

// The wgmma GEMM takes WgmmaMaxStages stages at most.
func.func @wgmma_stages() attributes {
    // expected-error @+1 {{the wgmma GEMM takes 2 to 5 stages, got 6}}
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 6, store = tma>} {
  return
}

// -----

// Past the last bound a split-K GEMM still runs one split at least.
func.func @split_k_otherwise() attributes {
    // expected-error @+1 {{split_k regimes must split at least once}}
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                     split_k = #moegpu.regimes<[128 -> 2], 0>>} {
  return
}

// -----

// Splits are powers of two up to SplitMaxSplits.
func.func @split_k_value() attributes {
    // expected-error @+1 {{split_k splits must be powers of two from 1 to 8, got 3}}
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                     split_k = #moegpu.regimes<[128 -> 3], 1>>} {
  return
}

// -----

// A parameter's name is a C identifier.
func.func @param_name() attributes {
    // expected-error @+1 {{parameter name '2nd' is not a C identifier}}
    p = #moegpu.param<input, "2nd">} {
  return
}

// -----

// A parameter's rows are a function of the token count only.
func.func @param_rows() attributes {
    // expected-error @+1 {{parameter rows must be a map ()[s0] -> (rows) of the token count, got affine_map<(d0) -> (d0)>}}
    p = #moegpu.param<input, "x", rows = affine_map<(d0) -> (d0)>>} {
  return
}

//===----------------------------------------------------------------------===//
// Keywords of the op formats
//===----------------------------------------------------------------------===//

// -----

// The grid policy keyword.
func.func @grid_keyword(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>, %R: index) {
  // expected-error @+1 {{expected 'persistent' or 'exact', got 'dynamic'}}
  %0 = moegpu.zero_tail offsets %c rows(%R) grid = dynamic outs(%o : tensor<8xf32>) : tensor<8xi32> -> tensor<8xf32>
  return
}

// -----

// The GEMM epilogue keyword.
func.func @epilogue_keyword(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                            %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+2 {{expected 'none' or 'silu_mul', got 'gelu'}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue gelu
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

//===----------------------------------------------------------------------===//
// Destination style and operand types (every op)
//===----------------------------------------------------------------------===//

// -----

// Each op has a fixed number of inits.
func.func @init_count(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op expects 1 init operands, got 2}}
  %0:2 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o, %o : tensor<8xf32>, tensor<8xf32>)
      : tensor<8xf32>, tensor<8xi32> -> tensor<8xf32>, tensor<8xf32>
  return
}

// -----

// Inits are all tensors or all memrefs.
func.func @init_mix(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: memref<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op inits must be all tensors or all memrefs}}
  %0 = moegpu.route %s k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x2xi32>, memref<4x2xf32>)
      : tensor<4x8xf32> -> tensor<4x2xi32>
  return
}

// -----

// On tensors every shaped operand is a tensor.
func.func @operand_memref(%b: memref<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op mixes tensors and memrefs: every operand must be a tensor like the inits}}
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : memref<8xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}

// -----

// On memrefs every shaped operand is a memref.
func.func @operand_tensor(%b: memref<8xf32>, %c: tensor<8xi32>, %o: memref<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op mixes tensors and memrefs: every operand must be a memref like the inits}}
  moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : memref<8xf32>) : memref<8xf32>, tensor<8xi32>
  return
}

// -----

// On memrefs an op writes its inits and has no results.
func.func @memref_results(%b: memref<8xf32>, %c: memref<8xi32>, %o: memref<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op on memrefs has no results}}
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : memref<8xf32>) : memref<8xf32>, memref<8xi32> -> tensor<8xf32>
  return
}

// -----

// On tensors an op has one result per init.
func.func @tensor_results(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op on tensors has one result per init (1), got 0}}
  moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : tensor<8xf32>, tensor<8xi32>
  return
}

// -----

// A result has its init's type.
func.func @result_type(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<?xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op result #0 type 'tensor<8xf32>' must equal its init's type 'tensor<?xf32>'}}
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<?xf32>) : tensor<8xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}

// -----

// Operands have a fixed rank (unranked ones included).
func.func @operand_rank(%b: tensor<*xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op 'bias' must have rank 1, got 'tensor<*xf32>'}}
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : tensor<*xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}

// -----

// An operand of one allowed element type.
func.func @operand_element(%b: tensor<8xf32>, %c: tensor<8xi64>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op 'counts' has element type 'i64', expected 'i32'}}
  %0 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o : tensor<8xf32>) : tensor<8xf32>, tensor<8xi64> -> tensor<8xf32>
  return
}

// -----

// An operand of several allowed element types.
func.func @operand_elements(%z: tensor<4x8xi32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'logits' has element type 'i32', expected one of 'f32', 'bf16', 'f16'}}
  %0:2 = moegpu.route score sigmoid %z k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>)
      : tensor<4x8xi32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}

//===----------------------------------------------------------------------===//
// moegpu.route
//===----------------------------------------------------------------------===//

// -----

// Without a score function the input holds f32 scores.
func.func @route_scores_f32(%z: tensor<4x8xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op without a score function the input holds the scores and must be f32}}
  %0:2 = moegpu.route %z k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>)
      : tensor<4x8xbf16> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}

// -----

// Statistics need a chunk (generic form only: the custom form ties them).
func.func @route_stats_chunk(%z: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                             %st: tensor<1x16xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'stats' and 'chunk' go together}}
  %0:3 = "moegpu.route"(%z, %T, %ids, %w, %st) <{func = #moe.score_func<sigmoid>, k = 2 : i64,
      grid = #moegpu.grid<persistent>, stats = #moe.loss<sequence, alpha = 1.0e-04>,
      operandSegmentSizes = array<i32: 1, 0, 1, 3>}>
      : (tensor<4x8xf32>, index, tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
      -> (tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
  return
}

// -----

// Statistics are of the scores, which a route of scores does not compute.
func.func @route_stats_scores(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                              %st: tensor<1x16xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op statistics need the scores: give a score function}}
  %0:3 = moegpu.route %s k = 2 stats <sequence, alpha = 1.0e-04> chunk = 4 grid = persistent tokens(%T)
      outs(%ids, %w, %st : tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>)
      : tensor<4x8xf32> -> tensor<4x2xi32>, tensor<4x2xf32>, tensor<1x16xf32>
  return
}

// -----

// A statistics chunk does not straddle sequences.
func.func @route_chunk(%z: tensor<?x8xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                       %st: tensor<?x16xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'chunk' (48) must be at least 1 and divide the loss's seq_len (4096)}}
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04, seq_len = 4096> chunk = 48
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x16xf32>)
      : tensor<?x8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x16xf32>
  return
}

// -----

// RouteMaxExperts: the warp-per-token kernel holds 16 scores per lane.
func.func @route_max_experts(%z: tensor<4x1024xf32>, %ids: tensor<4x8xi32>, %w: tensor<4x8xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 1024 experts exceeds the CUDA kernels' limit RouteMaxExperts = 512 (experts the warp-per-token routing kernel holds (16 scores per lane))}}
  %0:2 = moegpu.route score sigmoid %z k = 8 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x8xi32>, tensor<4x8xf32>)
      : tensor<4x1024xf32> -> tensor<4x8xi32>, tensor<4x8xf32>
  return
}

// -----

// RouteMaxK: lane k writes slot k.
func.func @route_max_k(%z: tensor<4x64xf32>, %ids: tensor<4x40xi32>, %w: tensor<4x40xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'k' (40) exceeds the CUDA kernels' limit RouteMaxK = 32 (slots per token of the routing kernel (lane k writes slot k))}}
  %0:2 = moegpu.route score sigmoid %z k = 40 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x40xi32>, tensor<4x40xf32>)
      : tensor<4x64xf32> -> tensor<4x40xi32>, tensor<4x40xf32>
  return
}

// -----

// RouteMaxGroups: the chosen groups are a 32-bit mask.
func.func @route_max_groups(%z: tensor<4x128xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'groups' (64) exceeds the CUDA kernels' limit RouteMaxGroups = 32 (groups of the routing kernel (the chosen groups are a 32-bit mask))}}
  %0:2 = moegpu.route score sigmoid %z k = 2 groups = 64 group_topk = 1 grid = persistent tokens(%T)
      outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>) : tensor<4x128xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}

// -----

// RouteMaxGroupSum: a topk_sum<n> group score merges at most 4 sorted lists.
func.func @route_max_group_sum(%z: tensor<4x256xf32>, %ids: tensor<4x8xi32>, %w: tensor<4x8xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'group_score' topk_sum<5> exceeds the CUDA kernels' limit RouteMaxGroupSum = 4 (n of a topk_sum<n> group score (a top-n merge of sorted lists))}}
  %0:2 = moegpu.route score sigmoid %z k = 8 groups = 8 group_topk = 4 group_score = topk_sum<5>
      grid = persistent tokens(%T) outs(%ids, %w : tensor<4x8xi32>, tensor<4x8xf32>)
      : tensor<4x256xf32> -> tensor<4x8xi32>, tensor<4x8xf32>
  return
}

// -----

// A group is a power-of-two number of whole warp lanes (96 experts: 3 per lane).
func.func @route_group_lanes(%z: tensor<4x96xf32>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op groups of 32 experts do not map onto whole warp lanes (3 experts per lane; a group must be a power-of-two number of lanes)}}
  %0:2 = moegpu.route score sigmoid %z k = 2 groups = 3 group_topk = 1 grid = persistent tokens(%T)
      outs(%ids, %w : tensor<4x2xi32>, tensor<4x2xf32>) : tensor<4x96xf32> -> tensor<4x2xi32>, tensor<4x2xf32>
  return
}

// -----

// LossMaxDevices: the routing kernel's statistics have at most 32 device columns.
func.func @route_max_devices(%z: tensor<?x128xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                             %st: tensor<?x320xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op loss 'devices' (64) exceeds the CUDA kernels' limit LossMaxDevices = 32 (devices of a device or comm loss)}}
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <device, alpha = 1.0e-02, devices = 64> chunk = 64
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x320xf32>)
      : tensor<?x128xf32> -> tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x320xf32>
  return
}

// -----

// Shared routing rule (MoeVerification): ids hold k slots.
func.func @route_ids_k(%z: tensor<4x8xf32>, %ids: tensor<4x3xi32>, %w: tensor<4x2xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'ids' dim 1 (3) must equal 'k' (2)}}
  %0:2 = moegpu.route score sigmoid %z k = 2 grid = persistent tokens(%T) outs(%ids, %w : tensor<4x3xi32>, tensor<4x2xf32>)
      : tensor<4x8xf32> -> tensor<4x3xi32>, tensor<4x2xf32>
  return
}

// -----

// Shared loss rule (MoeVerification): seq_len divides a static token count.
func.func @route_stats_seq_len(%z: tensor<6x8xf32>, %ids: tensor<6x2xi32>, %w: tensor<6x2xf32>,
                               %st: tensor<2x16xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op loss 'seq_len' (4) must divide the number of tokens (6)}}
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04, seq_len = 4> chunk = 4
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<6x2xi32>, tensor<6x2xf32>, tensor<2x16xf32>)
      : tensor<6x8xf32> -> tensor<6x2xi32>, tensor<6x2xf32>, tensor<2x16xf32>
  return
}

// -----

// The statistics are [ceil(tokens / chunk), 2 E + devices].
func.func @route_stats_rows(%z: tensor<8x8xf32>, %ids: tensor<8x2xi32>, %w: tensor<8x2xf32>,
                            %st: tensor<3x16xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.route' op 'stats' dim 0 (3) must equal ceil(tokens / chunk) (2)}}
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04> chunk = 4
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<8x2xi32>, tensor<8x2xf32>, tensor<3x16xf32>)
      : tensor<8x8xf32> -> tensor<8x2xi32>, tensor<8x2xf32>, tensor<3x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// moegpu.loss_from_stats, moegpu.loss_grad, moegpu.bias_update
//===----------------------------------------------------------------------===//

// -----

// k is in [1, experts].
func.func @loss_k(%st: tensor<?x16xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_from_stats' op 'k' (9) must be in [1, 8]}}
  %0:3 = moegpu.loss_from_stats %st <sequence, alpha = 1.0e-04> k = 9 chunk = 64 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x16xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}

// -----

// The statistics chunk is positive (and divides the sequence length).
func.func @loss_chunk(%st: tensor<?x16xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_from_stats' op 'chunk' (0) must be at least 1 and divide the loss's seq_len}}
  %0:3 = moegpu.loss_from_stats %st <sequence, alpha = 1.0e-04> k = 2 chunk = 0 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x16xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}

// -----

// The experts split evenly over the loss's devices.
func.func @loss_devices(%st: tensor<?x19xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_from_stats' op loss 'devices' (3) must divide the number of experts (8)}}
  %0:3 = moegpu.loss_from_stats %st <device, alpha = 1.0e-02, devices = 3> k = 2 chunk = 64 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x19xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}

// -----

// A device loss reads exactly its own device columns.
func.func @loss_stats_width(%st: tensor<?x16xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_from_stats' op 'stats' dim 1 (16) must be 2 E + the loss's devices (20)}}
  %0:3 = moegpu.loss_from_stats %st <device, alpha = 1.0e-02, devices = 4> k = 2 chunk = 64 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x16xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}

// -----

// LossMaxDevices: statistics with more device columns than the kernels hold.
func.func @loss_max_devices(%st: tensor<?x56xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_from_stats' op the statistics' 40 devices exceeds the CUDA kernels' limit LossMaxDevices = 32 (devices of a device or comm loss)}}
  %0:3 = moegpu.loss_from_stats %st <sequence, alpha = 1.0e-04> k = 2 chunk = 64 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x56xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}

// -----

// LossGradMaxExperts: the gradient kernel holds 16 experts per lane.
func.func @loss_grad_max_experts(%z: tensor<?x1024xf32>, %g: tensor<?x1024xf32>, %d: tensor<?x1024xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_grad' op 1024 experts exceeds the CUDA kernels' limit LossGradMaxExperts = 512 (experts of the loss-gradient kernel (16 per lane of a warp))}}
  %0 = moegpu.loss_grad sigmoid %z, %g <sequence, alpha = 1.0e-04> grid = persistent tokens(%T)
      outs(%d : tensor<?x1024xf32>) : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x1024xf32>
  return
}

// -----

// The bias update rate is finite.
func.func @bias_rate(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  // expected-error @+1 {{'moegpu.bias_update' op 'rate' (INF) must be finite}}
  %0 = moegpu.bias_update %b, %c rate = 0x7F800000 outs(%o : tensor<8xf32>) : tensor<8xf32>, tensor<8xi32> -> tensor<8xf32>
  return
}

//===----------------------------------------------------------------------===//
// moegpu.dispatch_layout, moegpu.permute, moegpu.combine
//===----------------------------------------------------------------------===//

// -----

// LayoutMaxSlots: the layout keeps a token's slots in registers.
func.func @layout_max_slots(%ids: tensor<3x65xi32>, %pe: tensor<32xi32>, %pr: tensor<16xi32>, %pn: tensor<2xi32>,
                            %m: tensor<3x16xi1>, %T: index) {
  // expected-error @+1 {{'moegpu.dispatch_layout' op 65 slots per token exceeds the CUDA kernels' limit LayoutMaxSlots = 64 (slots per token of the dispatch layout (per-token arrays in registers))}}
  %0:4 = moegpu.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      grid = persistent tokens(%T) outs(%pe, %pr, %pn, %m : tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>)
      : tensor<3x65xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

// The layout's inits are sized by the topology (a message shared with moe).
func.func @layout_ranks(%ids: tensor<3x4xi32>, %pe: tensor<32xi32>, %pr: tensor<8xi32>, %pn: tensor<2xi32>,
                        %m: tensor<3x16xi1>, %T: index) {
  // expected-error @+1 {{'moegpu.dispatch_layout' op 'tokens_per_rank' dim 0 (8) must equal the topology's ranks (16)}}
  %0:4 = moegpu.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      grid = persistent tokens(%T) outs(%pe, %pr, %pn, %m : tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>)
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}

// -----

// The offsets hold experts + 1 >= 2 entries.
func.func @permute_offsets(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                           %map: tensor<4x2xi32>, %off: tensor<1xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                           %bc: tensor<1x0xi32>, %tot: tensor<1xi32>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op 'offsets' must hold experts + 1 >= 2 entries}}
  %0:6 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<1xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x0xi32>, tensor<1xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<1xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x0xi32>, tensor<1xi32>
  return
}

// -----

// A drop policy needs a capacity factor.
func.func @permute_drop(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                        %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                        %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op 'drop_policy' requires 'capacity_factor'}}
  %0:6 = moegpu.permute %x, %ids, %w drop position fused_place_blocks = 64 deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>
  return
}

// -----

// The capacity factor is finite and positive (a message shared with moe).
func.func @permute_capacity(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                            %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                            %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op 'capacity_factor' (0.000000e+00) must be finite and positive}}
  %0:6 = moegpu.permute %x, %ids, %w capacity_factor = 0.0 drop position fused_place_blocks = 64 deferred_gather
      grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>
  return
}

// -----

// fused_place_blocks is a block count.
func.func @permute_fused_place(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                               %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                               %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op 'fused_place_blocks' (-1) must not be negative}}
  %0:6 = moegpu.permute %x, %ids, %w fused_place_blocks = -1 deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>
  return
}

// -----

// PermuteMaxExperts: the scan has one thread per expert.
func.func @permute_max_experts(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                               %map: tensor<4x2xi32>, %off: tensor<2050xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                               %bc: tensor<1x2049xi32>, %tot: tensor<2050xi32>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op 2049 experts exceeds the CUDA kernels' limit PermuteMaxExperts = 1024 (experts of the permute (the scan has one thread per expert))}}
  %0:6 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<4x2xi32>, tensor<2050xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x2049xi32>, tensor<2050xi32>)
      : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<2050xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x2049xi32>, tensor<2050xi32>
  return
}

// -----

// VectorBytes: the permute moves rows in 16-byte vectors.
func.func @permute_row_bytes(%x: tensor<4x4xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                             %map: tensor<4x2xi32>, %off: tensor<9xi32>, %rt: tensor<8xi32>, %lr: tensor<8xi32>,
                             %bc: tensor<1x8xi32>, %tot: tensor<9xi32>, %rows: tensor<8x4xbf16>, %T: index) {
  // expected-error @+1 {{'moegpu.permute' op a row of 8 bytes is not a multiple of the CUDA kernels' VectorBytes = 16 (bytes of the vector loads and stores of rows (rows are whole uint4s))}}
  %0:7 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot, %rows : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>,
           tensor<1x8xi32>, tensor<9xi32>, tensor<8x4xbf16>)
      : tensor<4x4xbf16>, tensor<4x2xi32>, tensor<4x2xf32>
      -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<1x8xi32>, tensor<9xi32>, tensor<8x4xbf16>
  return
}

// -----

// CombineMaxSlots: a thread loads each slot's map entry.
func.func @combine_max_slots(%h: tensor<?x64xbf16>, %map: tensor<4x257xi32>, %w: tensor<4x257xf32>,
                             %y: tensor<4x64xbf16>, %R: index, %T: index) {
  // expected-error @+1 {{'moegpu.combine' op 257 slots per token exceeds the CUDA kernels' limit CombineMaxSlots = 256 (slots per token of the combine (a thread loads each slot's map))}}
  %0 = moegpu.combine %h, %map, %w rows(%R) grid = persistent tokens(%T) outs(%y : tensor<4x64xbf16>)
      : tensor<?x64xbf16>, tensor<4x257xi32>, tensor<4x257xf32> -> tensor<4x64xbf16>
  return
}

// -----

// CombineElementsPerThread: each thread owns 8 elements of a row.
func.func @combine_hidden(%h: tensor<?x12xf32>, %map: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                          %y: tensor<4x12xf32>, %R: index, %T: index) {
  // expected-error @+1 {{'moegpu.combine' op a hidden size of 12 is not a multiple of the CUDA kernels' CombineElementsPerThread = 8 (elements of a row each combine thread owns (the hidden size is a multiple))}}
  %0 = moegpu.combine %h, %map, %w rows(%R) grid = persistent tokens(%T) outs(%y : tensor<4x12xf32>)
      : tensor<?x12xf32>, tensor<4x2xi32>, tensor<4x2xf32> -> tensor<4x12xf32>
  return
}

//===----------------------------------------------------------------------===//
// moegpu.tile_map, moegpu.zero_tail
//===----------------------------------------------------------------------===//

// -----

// A tile map has one expert at least.
func.func @tile_map_experts(%off: tensor<1xi32>, %t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 'experts' (0) must be at least 1}}
  %0 = moegpu.tile_map offsets %off experts = 0 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>)
      : tensor<1xi32> -> tensor<?x4xi32>
  return
}

// -----

// Without offsets there is one expert.
func.func @tile_map_no_offsets(%t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op without offsets all rows belong to one expert: 'experts' must be 1}}
  %0 = moegpu.tile_map experts = 8 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}

// -----

// Row tiles are the GEMMs' 128 rows (or 256 for [256, 128, 64] wgmma tiles).
func.func @tile_map_row_tile(%t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 'row_tile' (64) must be 128 or 256}}
  %0 = moegpu.tile_map experts = 1 row_tile = 64 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}

// -----

// A chunk holds one tile at least.
func.func @tile_map_chunk(%t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 'chunk' (0) must be at least 1}}
  %0 = moegpu.tile_map experts = 1 row_tile = 128 chunk = 0 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}

// -----

// GemmMaxExperts: the tile map has one thread per expert.
func.func @tile_map_max_experts(%off: tensor<2049xi32>, %t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 2048 experts exceeds the CUDA kernels' limit GemmMaxExperts = 1024 (experts of a grouped GEMM (the tile map has one thread per expert))}}
  %0 = moegpu.tile_map offsets %off experts = 2048 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>)
      : tensor<2049xi32> -> tensor<?x4xi32>
  return
}

// -----

// GemmMaxTileChunk: the tile map stores the chunk in 4 bits.
func.func @tile_map_max_chunk(%t: tensor<?x4xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 'chunk' (16) exceeds the CUDA kernels' limit GemmMaxTileChunk = 15 (row tiles per chunk (the tile map stores the chunk in 4 bits))}}
  %0 = moegpu.tile_map experts = 1 row_tile = 128 chunk = 16 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}

// -----

// A tile-map entry is (expert, begin, end, chunk) (a message shared with moe).
func.func @tile_map_entry(%t: tensor<?x3xi32>, %R: index) {
  // expected-error @+1 {{'moegpu.tile_map' op 'tiles' dim 1 (3) must equal (expert, begin, end, chunk) (4)}}
  %0 = moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x3xi32>) -> tensor<?x3xi32>
  return
}

// -----

// VectorBytes: zero_tail stores 16-byte vectors.
func.func @zero_tail_row_bytes(%off: tensor<9xi32>, %y: tensor<?x4xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.zero_tail' op a row of 8 bytes is not a multiple of the CUDA kernels' VectorBytes = 16 (bytes of the vector loads and stores of rows (rows are whole uint4s))}}
  %0 = moegpu.zero_tail offsets %off rows(%R) grid = persistent outs(%y : tensor<?x4xbf16>) : tensor<9xi32> -> tensor<?x4xbf16>
  return
}

//===----------------------------------------------------------------------===//
// moegpu.grouped_gemm
//===----------------------------------------------------------------------===//

// -----

// A single-expert (rank-2) weight is bf16 too.
func.func @gemm_weight_type(%a: tensor<?x64xbf16>, %w: tensor<128x64xf32>, %t: tensor<?x4xi32>,
                            %o: tensor<?x128xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'weight' has element type 'f32', expected 'bf16'}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xf32>) : tensor<?x64xbf16>, tensor<128x64xf32>, tensor<?x4xi32> -> tensor<?x128xf32>
  return
}

// -----

// The weight's sizes are static (a message shared with moe).
func.func @gemm_weight_static(%a: tensor<?x64xbf16>, %w: tensor<?x128x64xbf16>, %t: tensor<?x4xi32>,
                              %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'weight' dim 0 must be static (the experts, output columns and reduction)}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<?x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

// A gate/up weight holds 2 N rows per expert (a message shared with moe).
func.func @gemm_dual_rows(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                          %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'weight' dim 1 (128) must equal 2 x the output columns (gate, then up) (256)}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

// The silu_mul epilogue rounds to bf16.
func.func @gemm_dual_f32(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                         %o: tensor<?x128xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op the silu_mul epilogue writes bf16}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%o : tensor<?x128xf32>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x128xf32>
  return
}

// -----

// A gather takes the row-token map and A's rows together (generic form only).
func.func @gemm_gather_pair(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                            %rt: tensor<?xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'gather' takes the row-token map and the rows of A}}
  %0 = "moegpu.grouped_gemm"(%a, %w, %t, %rt, %R, %o) <{
      config = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers>,
      epilogue = #moegpu.gemm_epilogue<none>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 1, 1>}>
      : (tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32>, tensor<?xi32>, index, tensor<?x128xbf16>)
      -> tensor<?x128xbf16>
  return
}

// -----

// A gathering wgmma GEMM reads one 128-row tile's source rows.
func.func @gemm_gather_tile(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                            %rt: tensor<?xi32>, %o: tensor<?x128xbf16>, %T: index, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op a gathering wgmma GEMM takes 128-row tiles}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t gather %rt a_rows(%T) rows(%R)
      #moegpu.gemm<wgmma, tile = [256, 128, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32>, tensor<?xi32>
      -> tensor<?x128xbf16>
  return
}

// -----

// GemmMaxExperts: the GEMM's tile map has one thread per expert.
func.func @gemm_max_experts(%a: tensor<?x64xbf16>, %w: tensor<2048x128x64xbf16>, %t: tensor<?x4xi32>,
                            %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 2048 experts exceeds the CUDA kernels' limit GemmMaxExperts = 1024 (experts of a grouped GEMM (the tile map has one thread per expert))}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<2048x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

// MmaTileK: the mma.sync GEMM reduces in 32-element steps.
func.func @mma_k(%a: tensor<?x48xbf16>, %w: tensor<8x128x48xbf16>, %t: tensor<?x4xi32>,
                 %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op a reduction of 48 is not a multiple of the CUDA kernels' MmaTileK = 32 (reduction step of the mma.sync GEMM (the reduction is a multiple))}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x48xbf16>, tensor<8x128x48xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

// MmaDualColumns: a gate/up mma.sync block writes 64 output columns.
func.func @mma_dual_columns(%a: tensor<?x64xbf16>, %w: tensor<8x192x64xbf16>, %t: tensor<?x4xi32>,
                            %o: tensor<?x96xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op an intermediate size of 96 is not a multiple of the CUDA kernels' MmaDualColumns = 64 (output columns per block of the mma.sync gate/up GEMM (the intermediate size is a multiple))}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%o : tensor<?x96xbf16>) : tensor<?x64xbf16>, tensor<8x192x64xbf16>, tensor<?x4xi32> -> tensor<?x96xbf16>
  return
}

// -----

// The mma.sync GEMM stores output columns in pairs.
func.func @mma_pairs(%a: tensor<?x64xbf16>, %w: tensor<8x3x64xbf16>, %t: tensor<?x4xi32>,
                     %o: tensor<?x3xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op has 3 output columns; the mma_sync GEMM stores pairs}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x3xf32>) : tensor<?x64xbf16>, tensor<8x3x64xbf16>, tensor<?x4xi32> -> tensor<?x3xf32>
  return
}

// -----

// WgmmaTileK: the wgmma GEMM reduces in 64-element (128-byte) steps.
func.func @wgmma_k(%a: tensor<?x96xbf16>, %w: tensor<8x256x96xbf16>, %t: tensor<?x4xi32>,
                   %o: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op a reduction of 96 is not a multiple of the CUDA kernels' WgmmaTileK = 64 (reduction step of the wgmma GEMM (a 128-byte swizzled row of bf16))}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x256xbf16>) : tensor<?x96xbf16>, tensor<8x256x96xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
  return
}

// -----

// The wgmma GEMM covers the output columns with whole column tiles.
func.func @wgmma_columns(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                         %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op has 128 output columns; the wgmma GEMM with tile 128 x 256 needs a multiple of 256}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

// Only a single-expert GEMM splits K.
func.func @wgmma_split_k_experts(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                                 %o: tensor<?x256xf32>, %p: tensor<?x256xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op only single-expert GEMMs split K (a routed expert's tiles do not cover every row of the reduction)}}
  %0:2 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers,
                   split_k = #moegpu.regimes<[128 -> 4], 1>> epilogue none
      outs(%o, %p : tensor<?x256xf32>, tensor<?x256xf32>)
      : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>, tensor<?x256xf32>
  return
}

// -----

// Split-K partial sums are f32 (a message shared with every op's operand types).
func.func @wgmma_partial_type(%a: tensor<?x64xbf16>, %w: tensor<256x64xbf16>, %t: tensor<?x4xi32>,
                              %o: tensor<?x256xf32>, %p: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'partial' has element type 'bf16', expected 'f32'}}
  %0:2 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers,
                   split_k = #moegpu.regimes<[128 -> 4], 1>> epilogue none
      outs(%o, %p : tensor<?x256xf32>, tensor<?x256xbf16>)
      : tensor<?x64xbf16>, tensor<256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>, tensor<?x256xbf16>
  return
}

// -----

// TMA stores write bf16 in 64-column boxes.
func.func @wgmma_tma_f32(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                         %o: tensor<?x256xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op TMA stores take bf16 outputs in 64-column boxes}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x256xf32>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>
  return
}

// -----

// The wgmma GEMM needs a target with wgmma (sm_90a, not sm_90).
module attributes {moegpu.target = #moegpu.target<"sm_90">} {
  func.func @wgmma_target(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                          %o: tensor<?x256xbf16>, %R: index) {
    // expected-error @+1 {{'moegpu.grouped_gemm' op the wgmma GEMM needs a target with wgmma; sm_90 has none}}
    %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
        outs(%o : tensor<?x256xbf16>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
    return
  }
}

// -----

// The stages of a wgmma block fit the target's shared memory.
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @wgmma_shared_memory(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                                 %o: tensor<?x256xbf16>, %R: index) {
    // expected-error @+1 {{'moegpu.grouped_gemm' op 5 stages of 128 x 256 tiles need 247376 bytes of shared memory; sm_90a has 232448}}
    %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 5, store = tma> epilogue none
        outs(%o : tensor<?x256xbf16>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
    return
  }
}

//===----------------------------------------------------------------------===//
// Rules added after the first review: symbol and plan checks, table
// shapes the kernels index, the loss configuration of the gradient.
//===----------------------------------------------------------------------===//

// -----

// moegpu.workspace_size_of names a function of the module.
// expected-error @+1 {{'moegpu.workspace_size_of' names @nowhere, which is not in the module}}
func.func @size_of_nothing(%n: index) -> index attributes {moegpu.workspace_size_of = @nowhere} {
  return %n : index
}

// -----

// Only inputs and outputs have rows.
// expected-error @+1 {{only inputs and outputs have rows}}
func.func @rows_of_tokens() attributes {p = #moegpu.param<num_tokens, "num_tokens", rows = affine_map<()[s0] -> (s0)>>} {
  return
}

// -----

// A parameter's role is one of the five.
// expected-error @+1 {{expected a parameter role (input, output, workspace, num_tokens, stream), got 'scratch'}}
func.func @param_role() attributes {p = #moegpu.param<scratch, "x">} {
  return
}

// -----

// rows and type, once each.
// expected-error @+1 {{expected 'rows' or 'type' (once each), got 'shape'}}
func.func @param_key() attributes {p = #moegpu.param<input, "x", shape = memref<4xf32>>} {
  return
}

// -----

// A plan names its size function.
// expected-error @+1 {{a workspace plan names its size function}}
func.func @plan_function() attributes {p = #moegpu.workspace<"", alignment = 256>} {
  return
}

// -----

// The workspace alignment is a power of two.
// expected-error @+1 {{workspace alignment 96 must be a power of two}}
func.func @plan_alignment() attributes {p = #moegpu.workspace<"f", alignment = 96>} {
  return
}

// -----

// 'after' lists earlier buffers, in increasing order.
// expected-error @+1 {{buffer #1 ('b') is placed after buffer #1: 'after' lists earlier buffers, increasing}}
func.func @plan_after() attributes {p = #moegpu.workspace<"f", alignment = 256, [<"a", "256">, <"b", "256", after = [1]>]>} {
  return
}

// -----

// The zeroed rows' offsets hold at least one expert.
func.func @zero_tail_no_experts(%off: tensor<1xi32>, %y: tensor<?x8xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.zero_tail' op 'offsets' dim 0 (1) must be at least 2 (experts + 1)}}
  %0 = moegpu.zero_tail offsets %off rows(%R) grid = persistent outs(%y : tensor<?x8xbf16>) : tensor<1xi32> -> tensor<?x8xbf16>
  return
}

// -----

// A GEMM's tile map has 16-byte entries.
func.func @gemm_tile_width(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x3xi32>, %o: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'tiles' dim 1 (3) must equal (expert, begin, end, chunk) (4)}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none outs(%o : tensor<?x256xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x3xi32> -> tensor<?x256xbf16>
  return
}

// -----

// A gathering GEMM has a row-token entry per output row.
func.func @gather_rows(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x4xi32>, %tok: tensor<5xi32>, %o: tensor<7x128xbf16>, %T: index, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'row_token' dim 0 (5) must equal 'out' dim 0 (7)}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t gather %tok a_rows(%T) rows(%R) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul outs(%o : tensor<7x128xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x4xi32>, tensor<5xi32> -> tensor<7x128xbf16>
  return
}

// -----

// The permute's block counts: a row per rank block.
func.func @block_count_rows(%x: tensor<4x64xbf16>, %ids: tensor<4x2xi32>, %w: tensor<4x2xf32>, %T: index) {
  %map = tensor.empty() : tensor<4x2xi32>
  %off = tensor.empty() : tensor<9xi32>
  %s = tensor.empty() : tensor<8xi32>
  %bc = tensor.empty() : tensor<0x8xi32>
  %rows = tensor.empty() : tensor<8x64xbf16>
  // expected-error @+1 {{'moegpu.permute' op 'block_counts' dim 0 (0) must equal ceil(tokens x k / PermuteAssignmentsPerBlock) (1)}}
  %0:7 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 grid = persistent tokens(%T) outs(%map, %off, %s, %s, %bc, %off, %rows : tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<0x8xi32>, tensor<9xi32>, tensor<8x64xbf16>) : tensor<4x64xbf16>, tensor<4x2xi32>, tensor<4x2xf32> -> tensor<4x2xi32>, tensor<9xi32>, tensor<8xi32>, tensor<8xi32>, tensor<0x8xi32>, tensor<9xi32>, tensor<8x64xbf16>
  return
}

// -----

// The gradient's loss follows the loss rules (devices divide the experts).
func.func @loss_grad_devices(%z: tensor<?x8xf32>, %g: tensor<?x8xf32>, %d: tensor<?x8xf32>, %T: index) {
  // expected-error @+1 {{'moegpu.loss_grad' op loss 'devices' (3) must divide the number of experts (8)}}
  %0 = moegpu.loss_grad sigmoid %z, %g <device, alpha = 1.0e-02, devices = 3> grid = persistent tokens(%T)
      outs(%d : tensor<?x8xf32>) : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @copy_element_type(%a: tensor<4xf32>, %b: tensor<4xi32>, %r: index) {
  // expected-error @+1 {{'moegpu.copy' op copies 'tensor<4xf32>' into 'tensor<4xi32>': the element type and rank must match}}
  %0 = moegpu.copy %a rows(%r) outs(%b : tensor<4xi32>) : tensor<4xf32> -> tensor<4xi32>
  return
}

// -----

func.func @copy_shape(%a: tensor<?x4xf32>, %b: tensor<?x8xf32>, %r: index) {
  // expected-error @+1 {{'moegpu.copy' op 'source' dim 1 (4) must equal 'out' dim 1 (8)}}
  %0 = moegpu.copy %a rows(%r) outs(%b : tensor<?x8xf32>) : tensor<?x4xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @copy_rows(%a: tensor<4x2xf32>, %b: tensor<4x2xf32>) {
  %c3 = arith.constant 3 : index
  // expected-error @+1 {{'moegpu.copy' op 'rows' (3) must be 'out''s rows (4)}}
  %0 = moegpu.copy %a rows(%c3) outs(%b : tensor<4x2xf32>) : tensor<4x2xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @zero_dynamic_columns(%b: tensor<4x?xf32>, %r: index) {
  // expected-error @+1 {{'moegpu.zero' op 'out' dim 1 must be static (only rows, dim 0, follow num_tokens)}}
  %0 = moegpu.zero rows(%r) outs(%b : tensor<4x?xf32>) -> tensor<4x?xf32>
  return
}

// -----

func.func @zero_scalar_rows(%b: tensor<f32>) {
  %c2 = arith.constant 2 : index
  // expected-error @+1 {{'moegpu.zero' op 'rows' (2) must be 'out''s rows (1)}}
  %0 = moegpu.zero rows(%c2) outs(%b : tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @zero_two_inits(%a: tensor<4xf32>, %b: tensor<4xf32>, %r: index) {
  // expected-error @+1 {{'moegpu.zero' op expects 1 init operands, got 2}}
  %0:2 = moegpu.zero rows(%r) outs(%a, %b : tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>, tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// FP8: moegpu.quantize, the FP8 grouped GEMM, the FP8 tile
//===----------------------------------------------------------------------===//

func.func @quantize_width(%x: tensor<?x200xbf16>, %q: tensor<?x200xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op rows of 200 are not whole groups of 128}}
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x200xf8E4M3FN>, tensor<?x2xf32>)
      : tensor<?x200xbf16> -> tensor<?x200xf8E4M3FN>, tensor<?x2xf32>
  return
}

// -----

func.func @quantize_values_type(%x: tensor<?x256xbf16>, %q: tensor<?x256xi8>, %s: tensor<?x2xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op 'values' has element type 'i8', expected 'f8E4M3FN'}}
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x256xi8>, tensor<?x2xf32>)
      : tensor<?x256xbf16> -> tensor<?x256xi8>, tensor<?x2xf32>
  return
}

// -----

func.func @quantize_scales(%x: tensor<?x256xbf16>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x4xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op 'scales' dim 1 (4) must equal the groups per row (2)}}
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x256xf8E4M3FN>, tensor<?x4xf32>)
      : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
  return
}

// -----

func.func @quantize_rows(%x: tensor<4x256xbf16>, %q: tensor<8x256xf8E4M3FN>, %s: tensor<8x2xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op 'values' dim 0 (8) must equal 'input' dim 0 (4)}}
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<8x256xf8E4M3FN>, tensor<8x2xf32>)
      : tensor<4x256xbf16> -> tensor<8x256xf8E4M3FN>, tensor<8x2xf32>
  return
}

// -----

func.func @quantize_gather_pair(%x: tensor<?x256xbf16>, %tok: tensor<?xi32>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op 'gather' takes the row-token map and the offsets}}
  %0:2 = "moegpu.quantize"(%x, %tok, %R, %q, %s) <{grid = #moegpu.grid<persistent>,
      operandSegmentSizes = array<i32: 1, 1, 0, 1, 2>}>
      : (tensor<?x256xbf16>, tensor<?xi32>, index, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>)
  return
}

// -----

func.func @quantize_row_token(%x: tensor<?x256xbf16>, %tok: tensor<?xi64>, %off: tensor<9xi32>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  // expected-error @+1 {{'moegpu.quantize' op 'row_token' has element type 'i64', expected 'i32'}}
  %0:2 = moegpu.quantize %x gather %tok offsets %off rows(%R) grid = persistent outs(%q, %s : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>)
      : tensor<?x256xbf16>, tensor<?xi64>, tensor<9xi32> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  return
}

// -----

func.func @gemm_fp8_scale_pair(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x128x256xf8E4M3FN>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'scales' takes A's and W's}}
  %0 = "moegpu.grouped_gemm"(%a, %w, %t, %as, %R, %o) <{
      config = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers>,
      epilogue = #moegpu.gemm_epilogue<none>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1, 0, 1, 1>}>
      : (tensor<?x256xf8E4M3FN>, tensor<8x128x256xf8E4M3FN>, tensor<?x4xi32>, tensor<?x2xf32>, index, tensor<?x128xbf16>)
      -> tensor<?x128xbf16>
  return
}

// -----

func.func @gemm_fp8_weight_type(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x128x256xbf16>, %ws: tensor<8x1x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'weight' has element type 'bf16', expected 'f8E4M3FN'}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x128x256xbf16> scales tensor<?x2xf32>, tensor<8x1x2xf32>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

func.func @gemm_fp8_needs_scales(%a: tensor<?x256xf8E4M3FN>, %w: tensor<8x128x256xf8E4M3FN>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op e4m3 operands need their block scales ('scales')}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x128x256xf8E4M3FN>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

func.func @gemm_fp8_k_blocks(%a: tensor<?x192xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x128x192xf8E4M3FN>, %ws: tensor<8x1x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op an FP8 reduction (192) is whole blocks of 128}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x192xf8E4M3FN>, tensor<8x128x192xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x1x2xf32>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

func.func @gemm_fp8_a_scales(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x3xf32>, %w: tensor<8x128x256xf8E4M3FN>, %ws: tensor<8x1x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'a_scales' dim 1 (3) must equal the K blocks (2)}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x128x256xf8E4M3FN> scales tensor<?x3xf32>, tensor<8x1x2xf32>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}

// -----

func.func @gemm_fp8_w_scales(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x256x256xf8E4M3FN>, %ws: tensor<8x1x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op 'w_scales' dim 1 (1) must equal the 128-row blocks of the weights (2)}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x256xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x1x2xf32>, tensor<?x4xi32> -> tensor<?x256xbf16>
  return
}

// -----

func.func @gemm_fp8_tile(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x256x256xf8E4M3FN>, %ws: tensor<8x2x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op an FP8 GEMM runs on wgmma with tile [128, 128 or 256, 128], no split-K, storing from registers}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers> epilogue none
      outs(%o : tensor<?x256xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x2x2xf32>, tensor<?x4xi32> -> tensor<?x256xbf16>
  return
}

// -----

func.func @gemm_bf16_with_fp8_tile(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op the [128, 128, 128] tile is the FP8 GEMM's; bf16 operands take the wgmma tiles of 64 of K}}
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x256xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
  return
}

// -----

func.func @fp8_tile_stages() attributes {
  // expected-error @+1 {{the FP8 wgmma GEMM takes 2 to 8 stages, got 9}}
  a = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 9, store = registers>} {
  return
}

// -----

func.func @fp8_tile_store() attributes {
  // expected-error @+1 {{the FP8 wgmma GEMM stores from registers and does not split K}}
  a = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 4, store = tma>} {
  return
}

// -----

func.func @fp8_tile_other_width() attributes {
  // expected-error @+1 {{the wgmma GEMM's tile is [128, 256, 64] or [256, 128, 64] (FP8: [128, 128 or 256, 128])}}
  a = #moegpu.gemm<wgmma, tile = [128, 192, 128], stages = 4, store = registers>} {
  return
}

// -----

// The wide FP8 tile's outputs are whole tiles of 256 columns (a 128-column
// down projection takes the narrow tile).
func.func @gemm_fp8_wide_columns(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x384x256xf8E4M3FN>, %ws: tensor<8x3x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x384xbf16>, %R: index) {
  // expected-error @+1 {{'moegpu.grouped_gemm' op has 384 output columns; the wgmma GEMM with tile 128 x 256 needs a multiple of 256}}
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 4, store = registers> epilogue none
      outs(%o : tensor<?x384xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x384x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x3x2xf32>, tensor<?x4xi32> -> tensor<?x384xbf16>
  return
}

// -----

// Four stages of the wide FP8 tile fit an H100's shared memory, five do not.
module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @gemm_fp8_wide_shared_memory(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x256x256xf8E4M3FN>, %ws: tensor<8x2x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
    // expected-error @+1 {{'moegpu.grouped_gemm' op 5 stages of 128 x 256 tiles need 247376 bytes of shared memory; sm_90a has 232448}}
    %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 5, store = registers> epilogue none
        outs(%o : tensor<?x256xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x2x2xf32>, tensor<?x4xi32> -> tensor<?x256xbf16>
    return
  }
}
