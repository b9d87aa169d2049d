//===- MoeGPUOps.td - moegpu dialect operations ------------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_TD
#define MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_TD

include "moe/Dialect/MoeGPU/IR/MoeGPUBase.td"
include "moe/Dialect/MoeGPU/IR/MoeGPUAttrs.td"
include "moe/Dialect/Moe/IR/MoeAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// The kernel op interface
//===----------------------------------------------------------------------===//

def MoeGPU_KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let cppNamespace = "::mlir::moegpu";
  let description = [{
    A moegpu op: a CUDA kernel (or a fixed group of them) in destination
    style. Each init operand is a buffer the kernel writes; its name says
    what it holds (results are named after it, and so are the buffers of
    the workspace plan).
  }];
  let methods = [
    InterfaceMethod<"The name of each init operand, in order.",
      "::llvm::SmallVector<::llvm::StringRef>", "getInitNames">,
    InterfaceMethod<[{Whether the kernel reads init operand `index` before
      writing it (it updates the buffer in place).}],
      "bool", "readsInit", (ins "unsigned":$index), "",
      [{ return false; }]>,
  ];
}

// Every moegpu op: destination style over tensors or memrefs, its memory
// effects derived from that (none on tensors), its results named after its
// inits.
class MoeGPU_Op<string mnemonic, list<Trait> traits = []>
    : Op<MoeGPU_Dialect, mnemonic, !listconcat([Moe_SizesFit], traits, [
        MoeGPU_KernelOpInterface,
        DeclareOpInterfaceMethods<DestinationStyleOpInterface>,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>])> {
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let hasVerifier = 1;
  code kernelClassDeclaration = [{
    ::llvm::SmallVector<::llvm::StringRef> getInitNames();
  }];
  let extraClassDeclaration = kernelClassDeclaration;
}

//===----------------------------------------------------------------------===//
// Routing and load balancing
//===----------------------------------------------------------------------===//

def MoeGPU_RouteOp : MoeGPU_Op<"route", [AttrSizedOperandSegments]> {
  let summary = "the routing kernel: scores, top-k, weights, counts, statistics";
  let description = [{
    `moe.score` → `moe.route` in one pass over the logits (one warp per
    token, `Routing.cuh`): with `score` the input holds logits and the
    scores are computed in the kernel, else it holds the scores (f32). The
    routing attributes mean what they mean on `moe.route`. Inits, in order:
    `ids` [T, k] i32, `weights` [T, k] f32, with `counts` the tokens per
    expert [E] i32, with `stats` the load-balancing statistics of the
    configuration `stats` [ceil(T / chunk), 2E + D] f32 (see
    `moegpu.loss_from_stats`). `grid = persistent` runs as many blocks as
    fit on the GPU at once, each looping over tokens; `exact` one block per
    `RouteWarpsPerBlock` tokens.

    ```mlir
    %ids, %w, %counts = moegpu.route score sigmoid %logits bias %bias k = 8
        groups = 8 group_topk = 4 group_score = topk_sum<2> normalize
        scale = 2.5 counts grid = persistent tokens(%T)
        outs(%0, %1, %2 : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>)
        : tensor<?x256xf32>, tensor<256xf32>
        -> tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>
    ```
  }];
  let arguments = (ins
    AnyShaped:$logits,
    Optional<AnyShaped>:$bias,
    Index:$num_tokens,
    Variadic<AnyShaped>:$inits,
    OptionalAttr<Moe_ScoreFuncAttr>:$func,
    I64Attr:$k,
    DefaultValuedAttr<I64Attr, "1">:$groups,
    DefaultValuedAttr<I64Attr, "1">:$group_topk,
    DefaultValuedAttr<Moe_GroupScoreAttr,
        "::mlir::moe::GroupScoreAttr::getMax($_builder.getContext())">:$group_score,
    UnitAttr:$normalize,
    DefaultValuedAttr<F32Attr, "1.0f">:$scale,
    UnitAttr:$counts,
    OptionalAttr<Moe_BalanceLossAttr>:$stats,
    OptionalAttr<I64Attr>:$chunk,
    MoeGPU_GridPolicyAttr:$grid
  );
  let assemblyFormat = [{
    (`score` custom<Keyword>($func)^)? $logits (`bias` $bias^)? `k` `=` $k
    (`groups` `=` $groups^)? (`group_topk` `=` $group_topk^)?
    (`group_score` `=` custom<GroupScore>($group_score)^)? (`normalize` $normalize^)?
    (`scale` `=` $scale^)? (`counts` $counts^)?
    (`stats` $stats^ `chunk` `=` $chunk)? `grid` `=` custom<Keyword>($grid)
    `tokens` `(` $num_tokens `)` `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($logits) (`,` type($bias)^)? (`->` type($results)^)?
  }];
  let extraClassDeclaration = kernelClassDeclaration # [{
    int64_t getNumExperts() {
      return ::llvm::cast<::mlir::ShapedType>(getLogits().getType())
          .getDimSize(1);
    }
    ::mlir::Value getIdsInit() { return getInits()[0]; }
    ::mlir::Value getWeightsInit() { return getInits()[1]; }
    ::mlir::Value getCountsInit() {
      return getCounts() ? getInits()[2] : ::mlir::Value();
    }
    ::mlir::Value getStatsInit() {
      return getStats() ? getInits().back() : ::mlir::Value();
    }
  }];
}

def MoeGPU_LossFromStatsOp : MoeGPU_Op<"loss_from_stats"> {
  let summary = "a balance loss and its per-expert weights from statistics";
  let description = [{
    The loss of `config` (see `moe.balance_loss`) from the statistics of a
    `moegpu.route` with chunks of `chunk` tokens and `k` slots
    (`Loss.cuh`: one block per sequence, then one block for the mean, in a
    fixed order). Inits: the loss (a 0-d f32 tensor), the per-sequence,
    per-expert weights g [B, E] f32 of the loss (L_b = α Σ_i g_i P_i; the
    gradient reads them) and the per-sequence losses [B] f64 (scratch).
    B is T / seq_len, or 1 without a sequence length (0 for no tokens).

    ```mlir
    %loss, %g, %seq = moegpu.loss_from_stats %stats
        <sequence, alpha = 1.0e-04, seq_len = 4096> k = 8 chunk = 64
        tokens(%T) outs(%0, %1, %2 : tensor<f32>, tensor<?x256xf32>, tensor<?xf64>)
        : tensor<?x512xf32> -> tensor<f32>, tensor<?x256xf32>, tensor<?xf64>
    ```
  }];
  let arguments = (ins AnyShaped:$stats, Index:$num_tokens,
                       Variadic<AnyShaped>:$inits,
                       Moe_BalanceLossAttr:$config, I64Attr:$k,
                       I64Attr:$chunk);
  let assemblyFormat = [{
    $stats $config `k` `=` $k `chunk` `=` $chunk `tokens` `(` $num_tokens `)`
    `outs` `(` $inits `:` type($inits) `)` attr-dict `:` type($stats)
    (`->` type($results)^)?
  }];
}

def MoeGPU_LossGradOp : MoeGPU_Op<"loss_grad"> {
  let summary = "the gradient of a balance loss with respect to the logits";
  let description = [{
    `moe.balance_loss_grad` with the scores recomputed from the logits
    (`func`) and the loss weights g of `moegpu.loss_from_stats`: one warp
    per token over the logits. Init: the gradient [T, E] f32.

    ```mlir
    %grad = moegpu.loss_grad sigmoid %logits, %g
        <sequence, alpha = 1.0e-04, seq_len = 4096> grid = persistent
        tokens(%T) outs(%0 : tensor<?x256xf32>)
        : tensor<?x256xf32>, tensor<?x256xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Moe_ScoreFuncAttr:$func, AnyShaped:$logits,
                       AnyShaped:$weights, Index:$num_tokens,
                       Variadic<AnyShaped>:$inits,
                       Moe_BalanceLossAttr:$config, MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    custom<Keyword>($func) $logits `,` $weights $config `grid` `=`
    custom<Keyword>($grid) `tokens` `(` $num_tokens `)`
    `outs` `(` $inits `:` type($inits) `)` attr-dict `:` type($logits) `,`
    type($weights) (`->` type($results)^)?
  }];
}

def MoeGPU_BiasUpdateOp : MoeGPU_Op<"bias_update"> {
  let summary = "the aux-loss-free bias update in one block";
  let description = [{
    `moe.bias_update`: b + rate · sign(mean(c) − c), the comparison with
    the mean exact in integers. Init: the new bias [E] f32.

    ```mlir
    %b2 = moegpu.bias_update %b, %counts rate = 1.000000e-03
        outs(%0 : tensor<256xf32>) : tensor<256xf32>, tensor<256xi32>
        -> tensor<256xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$bias, AnyShaped:$counts,
                       Variadic<AnyShaped>:$inits, F32Attr:$rate);
  let assemblyFormat = [{
    $bias `,` $counts `rate` `=` $rate `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($bias) `,` type($counts) (`->` type($results)^)?
  }];
}

//===----------------------------------------------------------------------===//
// Dispatch, permute, combine
//===----------------------------------------------------------------------===//

def MoeGPU_DispatchLayoutOp : MoeGPU_Op<"dispatch_layout"> {
  let summary = "tokens per expert, rank and node and the send mask";
  let description = [{
    `moe.dispatch_layout` (a thread per token, `Dispatch.cuh`). Inits:
    tokens per expert [E], per rank [R], per node [N] (i32) and
    is_token_in_rank [T, R] (i1).

    ```mlir
    %pe, %pr, %pn, %mask = moegpu.dispatch_layout %ids
        topology <nodes = 2, gpus_per_node = 4, experts_per_gpu = 32>
        grid = persistent tokens(%T)
        outs(%0, %1, %2, %3 : tensor<256xi32>, tensor<8xi32>, tensor<2xi32>,
             tensor<?x8xi1>) : tensor<?x8xi32>
        -> tensor<256xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>
    ```
  }];
  let arguments = (ins AnyShaped:$ids, Index:$num_tokens,
                       Variadic<AnyShaped>:$inits, Moe_TopologyAttr:$topology,
                       MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    $ids `topology` $topology `grid` `=` custom<Keyword>($grid)
    `tokens` `(` $num_tokens `)` `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($ids) (`->` type($results)^)?
  }];
}

def MoeGPU_PermuteOp : MoeGPU_Op<"permute"> {
  let summary = "tokens into expert-major rows (rank, scan, place, gather)";
  let description = [{
    `moe.permute` as the kernels of `Dispatch.cuh`: *rank* (each block
    ranks `PermuteAssignmentsPerBlock` assignments within their experts),
    *scan* and *place* (one kernel while the rank blocks are at most
    `fused_place_blocks`, two past that), *select* (the `probs` drop
    policy), and the *gather* of the rows. Inits, in order: `row_map`
    [T, k], `offsets` [E + 1], `row_token` [T·k] (the token of each row),
    the scratch `local_rank` [T·k], `block_counts` [blocks, E] and `totals`
    [E + 1] (i32), with the `probs` policy `segment` [T·k] (i32), and
    unless `deferred_gather` the `rows` [T·k, H]. With `deferred_gather`
    the rows are not copied: the expert GEMM that reads them gathers them
    from `input` through `row_token`. `grid` sizes the place and gather
    kernels (grid-stride loops); rank, scan and select have one block per
    unit of work.

    ```mlir
    %map, %off, %tok, %lr, %bc, %tot, %rows = moegpu.permute %x, %ids, %w
        fused_place_blocks = 64 grid = persistent tokens(%T)
        outs(%0, %1, %2, %3, %4, %5, %6 : tensor<?x8xi32>, tensor<257xi32>,
             tensor<?xi32>, tensor<?xi32>, tensor<?x256xi32>, tensor<257xi32>,
             tensor<?x7168xbf16>)
        : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32> -> ...
    ```
  }];
  let arguments = (ins AnyShaped:$input, AnyShaped:$ids, AnyShaped:$weights,
                       Index:$num_tokens, Variadic<AnyShaped>:$inits,
                       OptionalAttr<F32Attr>:$capacity_factor,
                       DefaultValuedAttr<Moe_DropPolicyAttr,
                           "::mlir::moe::DropPolicy::probs">:$drop_policy,
                       I64Attr:$fused_place_blocks,
                       UnitAttr:$deferred_gather, MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    $input `,` $ids `,` $weights (`capacity_factor` `=` $capacity_factor^)?
    (`drop` custom<Keyword>($drop_policy)^)? `fused_place_blocks` `=`
    $fused_place_blocks (`deferred_gather` $deferred_gather^)?
    `grid` `=` custom<Keyword>($grid) `tokens` `(` $num_tokens `)` `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($input) `,` type($ids) `,` type($weights)
    (`->` type($results)^)?
  }];
  let extraClassDeclaration = kernelClassDeclaration # [{
    int64_t getNumExperts() {
      return ::llvm::cast<::mlir::ShapedType>(getOffsetsInit().getType())
                 .getDimSize(0) - 1;
    }
    int64_t getK() {
      return ::llvm::cast<::mlir::ShapedType>(getIds().getType()).getDimSize(1);
    }
    bool hasSegment() {
      return getCapacityFactor() &&
             getDropPolicy() == ::mlir::moe::DropPolicy::probs;
    }
    ::mlir::Value getRowMapInit() { return getInits()[0]; }
    ::mlir::Value getOffsetsInit() { return getInits()[1]; }
    ::mlir::Value getRowTokenInit() { return getInits()[2]; }
    ::mlir::Value getLocalRankInit() { return getInits()[3]; }
    ::mlir::Value getBlockCountsInit() { return getInits()[4]; }
    ::mlir::Value getTotalsInit() { return getInits()[5]; }
    ::mlir::Value getSegmentInit() {
      return hasSegment() ? getInits()[6] : ::mlir::Value();
    }
    ::mlir::Value getRowsInit() {
      return getDeferredGather() ? ::mlir::Value() : getInits().back();
    }
    /// The tensor result tied to an init (tensor form only).
    ::mlir::Value resultOf(::mlir::Value init);
  }];
}

def MoeGPU_CombineOp : MoeGPU_Op<"combine", [AttrSizedOperandSegments]> {
  let summary = "weighted sum of each token's expert rows (+ shared output)";
  let description = [{
    `moe.combine` (a block per token and 2048-column chunk, `Dispatch.cuh`):
    slots 0..k−1 summed in order in f32, the shared output added, rounded
    once. `rows` is the number of expert rows. Init: the output [T, H].

    ```mlir
    %y = moegpu.combine %h, %map, %w shared %sh rows(%R) grid = persistent
        tokens(%T) outs(%0 : tensor<?x7168xbf16>)
        : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>,
          tensor<?x7168xbf16> -> tensor<?x7168xbf16>
    ```
  }];
  let arguments = (ins AnyShaped:$expert_out, AnyShaped:$row_map,
                       AnyShaped:$weights, Optional<AnyShaped>:$shared,
                       Index:$rows, Index:$num_tokens,
                       Variadic<AnyShaped>:$inits, MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    $expert_out `,` $row_map `,` $weights (`shared` $shared^)?
    `rows` `(` $rows `)` `grid` `=` custom<Keyword>($grid)
    `tokens` `(` $num_tokens `)` `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($expert_out) `,` type($row_map) `,` type($weights)
    (`,` type($shared)^)? (`->` type($results)^)?
  }];
}

//===----------------------------------------------------------------------===//
// Grouped GEMMs
//===----------------------------------------------------------------------===//

def MoeGPU_TileMapOp : MoeGPU_Op<"tile_map", [AttrSizedOperandSegments]> {
  let summary = "the row tiles of a grouped GEMM, from the expert offsets";
  let description = [{
    One block of `GemmTileMapThreads` threads: per expert
    ceil(rows / row_tile) tiles of (expert, first row, end row, chunk), the
    tiles of an expert in chunks of up to `chunk` (the wgmma GEMM runs a
    chunk's blocks together, so they read each weight tile once), unused
    slots marked. Without `offsets` all `rows` rows belong to one expert
    (the router, the shared expert). Init: the tiles
    [ceil(rows / row_tile) + experts, 4] i32.

    ```mlir
    %tiles = moegpu.tile_map offsets %off experts = 256 row_tile = 128
        chunk = 8 rows(%R) outs(%0 : tensor<?x4xi32>) : tensor<257xi32>
        -> tensor<?x4xi32>
    ```
  }];
  let arguments = (ins Optional<AnyShaped>:$offsets, Index:$rows,
                       Variadic<AnyShaped>:$inits, I64Attr:$experts,
                       I64Attr:$row_tile, I64Attr:$chunk);
  let assemblyFormat = [{
    (`offsets` $offsets^)? `experts` `=` $experts `row_tile` `=` $row_tile
    `chunk` `=` $chunk `rows` `(` $rows `)` `outs` `(` $inits `:`
    type($inits) `)` attr-dict (`:` type($offsets)^)? (`->` type($results)^)?
  }];
}

def MoeGPU_GroupedGemmOp : MoeGPU_Op<"grouped_gemm", [AttrSizedOperandSegments]> {
  let summary = "a grouped GEMM over the rows of each expert's tiles";
  let description = [{
    out[r, n] = Σ_k A[r, k] · W[e(r), n, k] for the `rows` rows of the
    tiles (experts e from the tile map; W of rank 2 is one expert, e.g. the
    router), bf16
    operands, f32 sums, each output one fixed-order sum. With
    `epilogue silu_mul` W holds 2N rows per expert (gate, then up) and the
    output is silu(gate) · up rounded to the output type (the CPU
    reference's rounding point). `config` says how it runs. With `gather`
    GEMM row r reads A row row_token[r] (A has `a_rows` rows: the permute's
    input), otherwise row r. Inits: the output [rows, N], with a split-K
    configuration the f32 partial sums [max splits · rows, width].

    FP8 (`ExpertsFp8Sm90.cuh`): e4m3 A and W with `scales`, A's per row
    and 128-wide K block [rows, K/128] and W's per 128x128 block
    [E, ceil(rows of W / 128), K/128] (f32): each K block's sum is promoted
    into the f32 result with the row's and the weight block's scale
    (`moe.expert_ffn`'s semantics; the tensor cores sum a block with fewer
    bits, so the results are bounded, not bitwise). wgmma only, tile
    [128, 256, 128] (the default: half the A traffic per flop) or
    [128, 128, 128] (outputs that are not whole 256-column tiles), no
    gather, no split-K, stores from registers.

    ```mlir
    %h = moegpu.grouped_gemm %rows, %gate_up tiles %tiles rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma>
        epilogue silu_mul outs(%0 : tensor<?x2048xbf16>)
        : tensor<?x7168xbf16>, tensor<256x4096x7168xbf16>, tensor<?x4xi32>
        -> tensor<?x2048xbf16>
    ```
  }];
  let arguments = (ins AnyShaped:$a, AnyShaped:$weight, AnyShaped:$tiles,
                       Optional<AnyShaped>:$row_token,
                       Optional<Index>:$a_rows,
                       Optional<AnyShaped>:$a_scales,
                       Optional<AnyShaped>:$w_scales, Index:$rows,
                       Variadic<AnyShaped>:$inits,
                       MoeGPU_GemmConfigAttr:$config,
                       MoeGPU_GemmEpilogueAttr:$epilogue);
  let assemblyFormat = [{
    $a `,` $weight (`scales` $a_scales^ `,` $w_scales)? `tiles` $tiles
    (`gather` $row_token^ `a_rows` `(` $a_rows `)`)?
    `rows` `(` $rows `)` qualified($config) `epilogue` custom<Keyword>($epilogue)
    `outs` `(` $inits `:` type($inits) `)` attr-dict `:` type($a) `,`
    type($weight) (`scales` type($a_scales)^ `,` type($w_scales))? `,` type($tiles)
    (`,` type($row_token)^)? (`->` type($results)^)?
  }];
  let extraClassDeclaration = kernelClassDeclaration # [{
    bool isDual() {
      return getEpilogue() == ::mlir::moegpu::GemmEpilogue::silu_mul;
    }
    /// e4m3 operands with block scales.
    bool isFP8() { return static_cast<bool>(getAScales()); }
    /// Experts: W is [E, rows, K], or [rows, K] for one expert.
    int64_t getNumExperts() {
      auto w = ::llvm::cast<::mlir::ShapedType>(getWeight().getType());
      return w.getRank() == 3 ? w.getDimSize(0) : 1;
    }
    /// Output columns N (gate/up: the intermediate size).
    int64_t getN() {
      return ::llvm::cast<::mlir::ShapedType>(getOutInit().getType())
          .getDimSize(1);
    }
    /// The reduction K.
    int64_t getK() {
      auto w = ::llvm::cast<::mlir::ShapedType>(getWeight().getType());
      return w.getDimSize(w.getRank() - 1);
    }
    ::mlir::Value getOutInit() { return getInits()[0]; }
    ::mlir::Value getPartialInit() {
      return getInits().size() > 1 ? getInits()[1] : ::mlir::Value();
    }
  }];
}

def MoeGPU_QuantizeOp : MoeGPU_Op<"quantize", [AttrSizedOperandSegments]> {
  let summary = "act_quant of rows: e4m3 values and per-128 scales";
  let description = [{
    `moe.quantize ... group = 128` as `quantizeRowsKernel`
    (`ExpertsFp8Sm90.cuh`), one warp per row and group, bitwise the CPU
    reference. With `gather`, row r quantises `input` row row_token[r] (the
    permute's map: its copy and the quantisation in one pass); rows from
    offsets[E] on belong to no expert and get zero values and scales.
    Inits: the values [rows, W] (f8E4M3FN) and the scales [rows, W/128]
    (f32).

    ```mlir
    %q, %s = moegpu.quantize %x gather %tok offsets %off rows(%R) ue8m0
        grid = persistent outs(%0, %1 : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>)
        : tensor<?x7168xbf16>, tensor<?xi32>, tensor<257xi32> -> ...
    ```
  }];
  let arguments = (ins AnyShaped:$input, Optional<AnyShaped>:$row_token,
                       Optional<AnyShaped>:$offsets, Index:$rows,
                       Variadic<AnyShaped>:$inits, UnitAttr:$ue8m0,
                       MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    $input (`gather` $row_token^ `offsets` $offsets)? `rows` `(` $rows `)`
    (`ue8m0` $ue8m0^)? `grid` `=` custom<Keyword>($grid)
    `outs` `(` $inits `:` type($inits) `)` attr-dict `:` type($input)
    (`,` type($row_token)^ `,` type($offsets))? (`->` type($results)^)?
  }];
}

def MoeGPU_ZeroTailOp : MoeGPU_Op<"zero_tail"> {
  let summary = "zero the expert rows past the last expert's";
  let description = [{
    Rows [offsets[E], rows) of a grouped GEMM's output belong to no expert
    (dropped or never assigned): zero them, in place (a grid-stride loop of
    16-byte stores).

    ```mlir
    %y2 = moegpu.zero_tail offsets %off rows(%R) grid = persistent
        outs(%y : tensor<?x7168xbf16>) : tensor<257xi32> -> tensor<?x7168xbf16>
    ```
  }];
  let arguments = (ins AnyShaped:$offsets, Index:$rows,
                       Variadic<AnyShaped>:$inits, MoeGPU_GridPolicyAttr:$grid);
  let assemblyFormat = [{
    `offsets` $offsets `rows` `(` $rows `)` `grid` `=` custom<Keyword>($grid)
    `outs` `(` $inits `:` type($inits) `)` attr-dict `:` type($offsets)
    (`->` type($results)^)?
  }];
  let extraClassDeclaration = kernelClassDeclaration # [{
    bool readsInit(unsigned) { return true; }
  }];
}

//===----------------------------------------------------------------------===//
// Results no kernel computes
//===----------------------------------------------------------------------===//

def MoeGPU_CopyOp : MoeGPU_Op<"copy"> {
  let summary = "a device-to-device copy of `rows` rows into the init";
  let description = [{
    A launcher result that is one of its inputs (`moe.bias_update` with
    `rate = 0` folds to its bias) or a value it returns twice: the source's
    first `rows` rows, copied on the stream (`cudaMemcpyAsync`).

    ```mlir
    %out = moegpu.copy %bias rows(%c1) outs(%new_bias : tensor<256xf32>)
        : tensor<256xf32> -> tensor<256xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$source, Index:$rows,
                       Variadic<AnyShaped>:$inits);
  let assemblyFormat = [{
    $source `rows` `(` $rows `)` `outs` `(` $inits `:` type($inits) `)`
    attr-dict `:` type($source) (`->` type($results)^)?
  }];
}

def MoeGPU_ZeroOp : MoeGPU_Op<"zero"> {
  let summary = "zero the first `rows` rows of the init";
  let description = [{
    A launcher result that folded to zeros (a balance loss or gradient with
    `alpha = 0`): its bytes cleared on the stream (`cudaMemsetAsync`).

    ```mlir
    %grad = moegpu.zero rows(%T) outs(%g : tensor<?x256xf32>) -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Index:$rows, Variadic<AnyShaped>:$inits);
  let assemblyFormat = [{
    `rows` `(` $rows `)` `outs` `(` $inits `:` type($inits) `)` attr-dict
    (`->` type($results)^)?
  }];
}

#endif // MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_TD
