//===- MoeOps.td - moe dialect operations ------------------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEOPS_TD
#define MOE_DIALECT_MOE_IR_MOEOPS_TD

include "moe/Dialect/Moe/IR/MoeBase.td"
include "moe/Dialect/Moe/IR/MoeAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Moe_ActTensor2D : 2DTensorOf<[F32, BF16, F16]>;
def Moe_ActTensor3D : 3DTensorOf<[F32, BF16, F16]>;
// Rows and expert weights may also be e4m3 (FP8, with f32 block scales).
def Moe_RowsTensor2D : 2DTensorOf<[F32, BF16, F16, F8E4M3FN]>;
def Moe_WeightTensor3D : 3DTensorOf<[F32, BF16, F16, F8E4M3FN]>;
def Moe_F32Tensor3D : 3DTensorOf<[F32]>;
def Moe_F32Tensor2D : 2DTensorOf<[F32]>;
def Moe_IdsTensor : 2DTensorOf<[I32]>;
def Moe_BiasTensor : 1DTensorOf<[F32]>;
def Moe_CountsTensor : 1DTensorOf<[I32]>;
def Moe_LossTensor : 0DTensorOf<[F32]>;

// Every moe op works on immutable tensors and has no side effects, so CSE,
// DCE and folding apply to all of them.
class Moe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Moe_Dialect, mnemonic, !listconcat([Moe_SizesFit], traits, [Pure])>;

//===----------------------------------------------------------------------===//
// Routing
//===----------------------------------------------------------------------===//

def Moe_GateOp : Moe_Op<"gate"> {
  let summary = "router logits z = x · Wᵀ, accumulated in f32";
  let description = [{
    `input` is [T, H], `weight` is [E, H] with the same element type; the
    result is the logit matrix [T, E]: `z[t, e] = Σ_h x[t, h] · W[e, h]`,
    with products and sums in f32 whatever the operand type (h ascending
    on the reference backend).

    The result's element type is the logits' precision: f32 keeps the sums
    (DeepSeek, Kimi, GLM compute their router in f32); the input's element
    type rounds each sum once to it, to nearest even, as a Linear layer in
    the activation dtype does (Qwen and Mixtral: bf16 logits, then an f32
    softmax). The rounding can change which experts are chosen, so it is
    part of the semantics, not a backend choice.

    ```mlir
    %z = moe.gate %x, %w : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x256xf32>
    %zb = moe.gate %x, %w : tensor<?x2048xbf16>, tensor<128x2048xbf16> -> tensor<?x128xbf16>
    ```
  }];
  let arguments = (ins Moe_ActTensor2D:$input, Moe_ActTensor2D:$weight);
  let results = (outs Moe_ActTensor2D:$logits);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($logits)
  }];
  let hasVerifier = 1;
}

def Moe_ScoreOp : Moe_Op<"score"> {
  let summary = "affinity scores from router logits (sigmoid or softmax)";
  let description = [{
    `sigmoid`: s = 1 / (1 + exp(−z)) element-wise (DeepSeek-V3).
    `softmax`: s = softmax over the expert dimension, computed stably with the
    row maximum subtracted (DeepSeek-V2). The reference lowering evaluates
    it in f64 and rounds once, so each probability is within half an ulp of
    the exact value; other backends must stay within 1e-6 relative. The
    result is always f32.

    ```mlir
    %s = moe.score sigmoid %z : tensor<?x256xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Moe_ScoreFuncAttr:$func, Moe_ActTensor2D:$logits);
  let results = (outs Moe_F32Tensor2D:$scores);
  let assemblyFormat = [{
    custom<Keyword>($func) $logits attr-dict `:` type($logits) `->` type($scores)
  }];
  let hasVerifier = 1;
}

def Moe_RouteOp : Moe_Op<"route"> {
  let summary = "group-limited top-k selection with an optional selection bias";
  let description = [{
    Chooses `k` experts per token from the scores s [T, E] and returns their
    ids [T, K] (i32) and gate weights [T, K] (f32).

    1. Selection scores: `c = s + bias` (or `c = s` without bias). The bias
       only chooses; it never enters a weight.
    2. Group limit (when `groups` > 1): the E experts form `groups` contiguous
       groups of E / groups; each group is scored from `c` by `group_score`
       (`max` or `topk_sum<n>`); the `group_topk` best groups are kept and
       every expert outside them is masked with −inf.
    3. Top-k of the masked `c`. Slots are ordered by selection score,
       descending; ties (groups and experts) go to the lower index. A NaN
       selection score ranks below every number, −inf included.
    4. Weights are the raw scores `s` at the chosen ids; with `normalize` they
       are divided by their sum + 1e-20; then multiplied by `scale`.

    ```mlir
    %ids, %w = moe.route %s bias %b k = 8 groups = 8 group_topk = 4
        group_score = topk_sum<2> normalize scale = 2.500000e+00
        : (tensor<?x256xf32>, tensor<256xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
    ```
  }];
  let arguments = (ins
    Moe_F32Tensor2D:$scores,
    Optional<Moe_BiasTensor>:$bias,
    I64Attr:$k,
    DefaultValuedAttr<I64Attr, "1">:$groups,
    DefaultValuedAttr<I64Attr, "1">:$group_topk,
    DefaultValuedAttr<Moe_GroupScoreAttr,
        "::mlir::moe::GroupScoreAttr::getMax($_builder.getContext())">:$group_score,
    UnitAttr:$normalize,
    DefaultValuedAttr<F32Attr, "1.0f">:$scale
  );
  let results = (outs Moe_IdsTensor:$ids, Moe_F32Tensor2D:$weights);
  let assemblyFormat = [{
    $scores (`bias` $bias^)? `k` `=` $k
    (`groups` `=` $groups^)? (`group_topk` `=` $group_topk^)?
    (`group_score` `=` custom<GroupScore>($group_score)^)? (`normalize` $normalize^)?
    (`scale` `=` $scale^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getScores().getType().getDimSize(1); }
  }];
}

def Moe_ExpertCountsOp : Moe_Op<"expert_counts"> {
  let summary = "number of (token, slot) assignments per expert";
  let description = [{
    `counts[e]` = number of entries of `ids` equal to e. Entries outside
    [0, E) (such as −1 for a dropped or absent slot) are ignored. These are
    the loads the bias update and the load statistics use.

    ```mlir
    %c = moe.expert_counts %ids : tensor<?x8xi32> -> tensor<256xi32>
    ```
  }];
  let arguments = (ins Moe_IdsTensor:$ids);
  let results = (outs Moe_CountsTensor:$counts);
  let assemblyFormat = "$ids attr-dict `:` type($ids) `->` type($counts)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dispatch, experts, combine
//===----------------------------------------------------------------------===//

def Moe_DispatchLayoutOp : Moe_Op<"dispatch_layout"> {
  let summary = "token counts per expert, rank and node, and the send mask";
  let description = [{
    DeepEP's `get_dispatch_layout` on a `#moe.topology`: with R ranks and
    N nodes,

    * `tokens_per_expert[E]`: entries of `ids` equal to e;
    * `tokens_per_rank[R]`: tokens with at least one expert on rank r (a token
      counts once per rank);
    * `tokens_per_node[N]`: tokens with at least one expert on node n;
    * `is_token_in_rank[T, R]`: whether token t is sent to rank r.

    Entries of `ids` outside [0, E) (−1) are ignored.

    ```mlir
    %pe, %pr, %pn, %in = moe.dispatch_layout %ids
        topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
        : tensor<?x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<?x16xi1>
    ```
  }];
  let arguments = (ins Moe_IdsTensor:$ids, Moe_TopologyAttr:$topology);
  let results = (outs Moe_CountsTensor:$tokens_per_expert,
                      Moe_CountsTensor:$tokens_per_rank,
                      Moe_CountsTensor:$tokens_per_node,
                      2DTensorOf<[I1]>:$is_token_in_rank);
  let assemblyFormat = [{
    $ids `topology` $topology attr-dict `:` type($ids) `->` type(results)
  }];
  let hasVerifier = 1;
}

def Moe_PermuteOp : Moe_Op<"permute"> {
  let summary = "token rows into expert-major order, with optional capacity";
  let description = [{
    Gathers the rows of `input` [T, H] so that all rows routed to expert 0 come
    first, then expert 1, …; inside an expert the rows are in increasing token
    order (stable). `rows` has T·K rows; rows past the last kept assignment
    are zero. `row_map[t, k]` is the row that holds slot k of token t, or −1
    when that assignment was dropped (or its id is outside [0, E)).
    `offsets` [E + 1] are the exclusive prefix sums of the kept rows per
    expert: expert e owns rows [offsets[e], offsets[e+1]).

    FP8 rows travel with their scales: when `input` is e4m3 (the values of
    `moe.quantize`), `scales` [T, G] (its per-token group scales) is
    required and `row_scales` [T·K, G] is gathered like `rows` (zero past
    the last kept row).

    With `capacity_factor = cf`, each expert keeps at most
    `capacity = ceil(T·K/E · cf)` assignments (evaluated in f64); the drop
    policy decides which: `probs` keeps the largest `weights` (ties to the
    lower token index), `position` keeps the lowest token indices. Kept
    weights are not renormalised.

    ```mlir
    %rows, %map, %off = moe.permute %x, %ids, %w capacity_factor = 1.250000e+00
        : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>)
          -> (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<257xi32>)
    ```
  }];
  let arguments = (ins
    Moe_RowsTensor2D:$input, Optional<Moe_F32Tensor2D>:$scales,
    Moe_IdsTensor:$ids, Moe_F32Tensor2D:$weights,
    OptionalAttr<F32Attr>:$capacity_factor,
    DefaultValuedAttr<Moe_DropPolicyAttr, "::mlir::moe::DropPolicy::probs">:$drop_policy
  );
  let results = (outs Moe_RowsTensor2D:$rows, Moe_IdsTensor:$row_map,
                      Moe_CountsTensor:$offsets,
                      Optional<Moe_F32Tensor2D>:$row_scales);
  let assemblyFormat = [{
    $input (`scales` $scales^)? `,` $ids `,` $weights (`capacity_factor` `=` $capacity_factor^)?
    (`drop` custom<Keyword>($drop_policy)^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getOffsets().getType().getDimSize(0) - 1; }
  }];
}

def Moe_ExpertFFNOp : Moe_Op<"expert_ffn", [AttrSizedOperandSegments]> {
  let summary = "grouped SwiGLU feed-forward over expert-major rows";
  let description = [{
    For each expert e and each row r in [offsets[e], offsets[e+1]):
    `g = x_r · Wgᵀ`, `u = x_r · Wuᵀ`, `h = silu(g) · u`, `y_r = h · Wdᵀ`,
    where `gate_up[e]` [2I, H] holds Wg (rows 0..I−1) then Wu (rows I..2I−1)
    and `down[e]` [H, I] is Wd. Products accumulate in f32; h is rounded to
    the element type of `rows` before the down projection. Rows outside
    [0, offsets[E]) give zero.

    Without `offsets` the weights must hold exactly one expert, applied to
    every row: this is the shared expert.

    FP8 (DeepSeek-V3's checkpoints): `rows`, `gate_up` and `down` are e4m3
    with f32 scales, all in blocks of 128 along K: `row_scales` [R, H/128]
    (from `moe.quantize`), `gate_up_scales` [E, 2I/128, H/128] and
    `down_scales` [E, H/128, I/128] (the checkpoints' `weight_scale_inv`:
    one scale per 128x128 block, dequantised value = w · s). H and I must
    be multiples of 128. Each projection is the block-scaled GEMM: for each
    128-wide K block b, `acc += (Σ_{k∈b} q_x·q_w) · s_x[b] · s_w[n/128, b]`,
    with the block sum exact (e4m3 products are exact and 128 of them fit
    in f64's 53 bits) rounded once to f32, the two products and `acc` in
    f32. h = silu(g) · u is rounded to the result's element type and then
    quantised like `moe.quantize ... group = 128` (`ue8m0` as there) before
    the down projection; y is rounded to the result's element type.

    ```mlir
    %y = moe.expert_ffn %rows offsets %off weights %wgu, %wd
        : (tensor<?x7168xbf16>, tensor<257xi32>, tensor<256x4096x7168xbf16>,
           tensor<256x7168x2048xbf16>) -> tensor<?x7168xbf16>
    ```
  }];
  let arguments = (ins Moe_RowsTensor2D:$rows, Optional<Moe_F32Tensor2D>:$row_scales,
                       Optional<Moe_CountsTensor>:$offsets,
                       Moe_WeightTensor3D:$gate_up, Moe_WeightTensor3D:$down,
                       Optional<Moe_F32Tensor3D>:$gate_up_scales,
                       Optional<Moe_F32Tensor3D>:$down_scales,
                       UnitAttr:$ue8m0);
  let results = (outs Moe_ActTensor2D:$output);
  let assemblyFormat = [{
    $rows (`scales` $row_scales^)? (`offsets` $offsets^)? `weights` $gate_up `,` $down
    (`scales` $gate_up_scales^ `,` $down_scales)? (`ue8m0` $ue8m0^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// e4m3 rows and weights with block scales.
    bool isFP8() {
      return ::llvm::isa<::mlir::Float8E4M3FNType>(
          getRows().getType().getElementType());
    }
  }];
}

def Moe_CombineOp : Moe_Op<"combine"> {
  let summary = "weighted sum of each token's expert outputs";
  let description = [{
    `out[t] = shared[t] + Σ_{k = 0..K−1} weights[t, k] · expert_out[row_map[t, k]]`,
    summed in f32 in slot order k = 0, 1, …, K−1 (slots with row −1 are
    skipped), then the shared-expert output (if any) is added and the result
    is rounded to the element type of `expert_out`.

    ```mlir
    %y = moe.combine %h, %map, %w shared %sh
        : (tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x7168xbf16>)
          -> tensor<?x7168xbf16>
    ```
  }];
  let arguments = (ins Moe_ActTensor2D:$expert_out, Moe_IdsTensor:$row_map,
                       Moe_F32Tensor2D:$weights, Optional<Moe_ActTensor2D>:$shared);
  let results = (outs Moe_ActTensor2D:$output);
  let assemblyFormat = [{
    $expert_out `,` $row_map `,` $weights (`shared` $shared^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Load balancing
//===----------------------------------------------------------------------===//

def Moe_BalanceLossOp : Moe_Op<"balance_loss"> {
  let summary = "auxiliary load-balancing loss (sequence, expert, device, comm)";
  let description = [{
    A scalar loss from the scores s [T, E] (the output of `moe.score`) and the
    routed ids [T, K]. Tokens are split into T / seq_len sequences (one
    sequence without `seq_len`); for each sequence of L tokens:

    * `c_i` = slots choosing expert i: from `ids` (`counts = selected`) or
      from the plain top-K of s (`counts = topk`; no bias, no group limit,
      lower index on ties); `f_i = E / (K·L) · c_i`.
    * `sequence`: `P_i = (1/L) Σ_t s_{i,t} / Σ_j s_{j,t}`, `L = α Σ_i f_i P_i`.
    * `expert`: `P_i = (1/L) Σ_t s_{i,t}`, `L = α Σ_i f_i P_i`.
    * `device` (D devices of E/D contiguous experts):
      `L = α Σ_d mean_{i∈d}(f_i) · Σ_{i∈d} P_i` (P as for `expert`).
    * `comm`: `f''_d = D / (M·L) · #tokens with at least one slot on d`,
      `L = α Σ_d f''_d · Σ_{i∈d} P_i`.

    The result is the mean of the per-sequence losses.

    ```mlir
    %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-04, counts = topk, seq_len = 4096>
        : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor2D:$scores, Moe_IdsTensor:$ids,
                       Moe_BalanceLossAttr:$config);
  let results = (outs Moe_LossTensor:$loss);
  let assemblyFormat = [{
    $scores `,` $ids $config attr-dict `:` type($scores) `,` type($ids) `->` type($loss)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Moe_BalanceLossGradOp : Moe_Op<"balance_loss_grad"> {
  let summary = "gradient of a balance loss with respect to the router logits";
  let description = [{
    `∂L/∂z` [T, E] for the loss that `moe.balance_loss` with the same operands
    and `config` computes, where `scores = func(z)`. The counts (f) are
    constants: the gradient flows through P only, as in Megatron and the HF
    code. For sigmoid scores `∂s_i/∂z_i = s_i (1 − s_i)`; for softmax the full
    Jacobian `s_i (δ_ij − s_j)` is used.

    ```mlir
    %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0e-04, counts = topk>
        : tensor<?x256xf32>, tensor<?x8xi32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Moe_ScoreFuncAttr:$func, Moe_F32Tensor2D:$scores,
                       Moe_IdsTensor:$ids, Moe_BalanceLossAttr:$config);
  let results = (outs Moe_F32Tensor2D:$grad);
  let assemblyFormat = [{
    custom<Keyword>($func) $scores `,` $ids $config attr-dict `:` type($scores) `,` type($ids)
    `->` type($grad)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Moe_BiasUpdateOp : Moe_Op<"bias_update",
    [AllTypesMatch<["bias", "updated"]>]> {
  let summary = "aux-loss-free bias update b ← b + rate · sign(mean(c) − c)";
  let description = [{
    One step of DeepSeek-V3's aux-loss-free balancing on the per-expert loads
    `counts` of a whole (global) batch: underloaded experts get `+rate`,
    overloaded ones `−rate`, experts exactly at the mean keep their bias. The
    comparison with the mean is done exactly in integers
    (`sign(Σ_j c_j − E·c_i)`).

    ```mlir
    %b2 = moe.bias_update %b, %c rate = 1.000000e-03 : tensor<256xf32>, tensor<256xi32>
    ```
  }];
  let arguments = (ins Moe_BiasTensor:$bias, Moe_CountsTensor:$counts, F32Attr:$rate);
  let results = (outs Moe_BiasTensor:$updated);
  let assemblyFormat = [{
    $bias `,` $counts `rate` `=` $rate attr-dict `:` type($bias) `,` type($counts)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// FP8
//===----------------------------------------------------------------------===//

def Moe_QuantizeOp : Moe_Op<"quantize"> {
  let summary = "per-token, per-group e4m3 activation quantisation (DeepSeek-V3)";
  let description = [{
    DeepSeek-V3's dynamic activation quantisation: `input` [T, K] is cut
    into groups of `group` consecutive elements along K (K a multiple of
    `group`); each token and group gets one f32 scale and K e4m3 values.
    In f32: `amax = max(max |x| over the group, 1e-4)`, `s = amax / 448`
    (448 is the largest finite e4m3fn value); with `ue8m0` (V3.1
    checkpoints' `scale_fmt`) `s` is rounded up to a power of two
    (`2^ceil(log2 s)`, exactly, on its bits); `values = e4m3fn(x / s)`,
    rounded to nearest even from the f32 quotient, so that
    `x ≈ values · s`. A NaN in a group makes its scale NaN.

    ```mlir
    %q, %s = moe.quantize %x group = 128 ue8m0
        : tensor<?x7168xbf16> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
    ```
  }];
  let arguments = (ins Moe_ActTensor2D:$input,
                       ConfinedAttr<DefaultValuedAttr<I64Attr, "128">,
                                    [IntPositive]>:$group,
                       UnitAttr:$ue8m0);
  let results = (outs 2DTensorOf<[F8E4M3FN]>:$values, Moe_F32Tensor2D:$scales);
  let assemblyFormat = [{
    $input `group` `=` $group (`ue8m0` $ue8m0^)? attr-dict `:` type($input)
    `->` type($values) `,` type($scales)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Whole layer
//===----------------------------------------------------------------------===//

def Moe_LayerOp : Moe_Op<"layer", [AttrSizedOperandSegments]> {
  let summary = "a whole MoE layer: routing, dispatch, experts, combine";
  let description = [{
    `output = Σ_k w[t,k] · FFN_{ids[t,k]}(x_t) + FFN_shared(x_t)` with the
    routing of `moe.gate` → `moe.score` → `moe.route` configured by the
    routing attributes (same names and rules as `moe.route`), the optional
    capacity of `moe.permute`, and one auxiliary loss result per entry of
    `losses`. `moe-expand-layer` rewrites it into the primitive ops.

    Operands: `input` [T, H]; `router` [E, H]; optional `bias` [E] (f32);
    expert weights `gate_up` [E, 2I, H] and `down` [E, H, I]; optional shared
    expert weights [1, 2Is, H] and [1, H, Is] (several shared experts are one
    wider FFN). All weights have the element type of `input`, or all are
    e4m3 (FP8, below).

    FP8: with e4m3 `gate_up` and `down` (and shared weights), `scales`
    gives their 128x128 block scales ([E, 2I/128, H/128], [E, H/128, I/128];
    `shared_scales` the shared expert's) and the layer is DeepSeek-V3's FP8
    MoE: routing as above from `input` and `router`, then `input` quantised
    per token and group of 128 (`moe.quantize`, `ue8m0` as there), the e4m3
    rows and scales permuted, the block-scaled `moe.expert_ffn` (h quantised
    again) and the combine as above, in the element type of `input`.

    `logits` is the router logits' precision (`moe.gate`'s result type):
    f32 when absent; the input's element type rounds them to it before
    scoring (`logits = bf16`: Qwen2/3-MoE and Mixtral).

    `topology` states where the experts live; with a `node_limit` the
    routing must respect it (each group within one node, at most
    `node_limit` groups per token).
  }];
  let arguments = (ins
    Moe_ActTensor2D:$input,
    Moe_ActTensor2D:$router,
    Optional<Moe_BiasTensor>:$bias,
    Moe_WeightTensor3D:$gate_up,
    Moe_WeightTensor3D:$down,
    Optional<Moe_F32Tensor3D>:$gate_up_scales,
    Optional<Moe_F32Tensor3D>:$down_scales,
    Optional<Moe_WeightTensor3D>:$shared_gate_up,
    Optional<Moe_WeightTensor3D>:$shared_down,
    Optional<Moe_F32Tensor3D>:$shared_gate_up_scales,
    Optional<Moe_F32Tensor3D>:$shared_down_scales,
    UnitAttr:$ue8m0,
    Moe_ScoreFuncAttr:$score_func,
    I64Attr:$k,
    DefaultValuedAttr<I64Attr, "1">:$groups,
    DefaultValuedAttr<I64Attr, "1">:$group_topk,
    DefaultValuedAttr<Moe_GroupScoreAttr,
        "::mlir::moe::GroupScoreAttr::getMax($_builder.getContext())">:$group_score,
    UnitAttr:$normalize,
    DefaultValuedAttr<F32Attr, "1.0f">:$scale,
    OptionalAttr<TypeAttrOf<AnyFloat>>:$logits,
    OptionalAttr<F32Attr>:$capacity_factor,
    DefaultValuedAttr<Moe_DropPolicyAttr, "::mlir::moe::DropPolicy::probs">:$drop_policy,
    OptionalAttr<Moe_TopologyAttr>:$topology,
    OptionalAttr<TypedArrayAttrBase<Moe_BalanceLossAttr,
        "array of balance-loss configurations">>:$losses
  );
  let results = (outs Moe_ActTensor2D:$output, Variadic<Moe_LossTensor>:$aux_losses);
  let assemblyFormat = [{
    $input `router` $router (`bias` $bias^)? `experts` $gate_up `,` $down
    (`scales` $gate_up_scales^ `,` $down_scales)?
    (`shared` $shared_gate_up^ `,` $shared_down)?
    (`shared_scales` $shared_gate_up_scales^ `,` $shared_down_scales)?
    (`ue8m0` $ue8m0^)?
    `score` custom<Keyword>($score_func) `k` `=` $k
    (`groups` `=` $groups^)? (`group_topk` `=` $group_topk^)?
    (`group_score` `=` custom<GroupScore>($group_score)^)? (`normalize` $normalize^)?
    (`scale` `=` $scale^)? (`logits` `=` $logits^)?
    (`capacity_factor` `=` $capacity_factor^)?
    (`drop` custom<Keyword>($drop_policy)^)? (`topology` $topology^)? (`losses` $losses^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() { return getRouter().getType().getDimSize(0); }
    /// e4m3 expert weights with block scales.
    bool isFP8() {
      return ::llvm::isa<::mlir::Float8E4M3FNType>(
          getGateUp().getType().getElementType());
    }
  }];
}

#endif // MOE_DIALECT_MOE_IR_MOEOPS_TD
