//===- Passes.td - moegpu dialect passes -------------------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_TD
#define MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MoeGPUConfigure : Pass<"moegpu-configure", "::mlir::ModuleOp"> {
  let summary = "Turn moe ops into moegpu kernel ops configured for a target";
  let description = [{
    Every `func.func` of moe ops becomes a launcher of moegpu kernel ops
    for `target` (a `moe.layer` is expanded first), with each decision of
    the code generator a typed attribute:

    * routing: `moe.score` → `moe.route` (and a `moe.expert_counts` of its
      ids) becomes one `moegpu.route`; with balance losses and gradients of
      the same scores the route also writes their statistics (chunks of
      `RouteStatsChunk` tokens, or its gcd with the sequence length) and the
      losses become `moegpu.loss_from_stats`, the gradients
      `moegpu.loss_grad`;
    * `moe.gate` and `moe.expert_ffn` become a `moegpu.tile_map` and
      `moegpu.grouped_gemm`s (gate/up with the SiLU·mul epilogue, then
      down, then `moegpu.zero_tail` for routed experts). The GEMM family is
      wgmma on a target with wgmma when the shape is in whole wgmma tiles,
      else mma.sync; the stages are as many as fit the target's shared
      memory; single-expert wgmma GEMMs (the router, the shared expert)
      split K over a table of row regimes;
    * `moe.permute`, `moe.combine`, `moe.dispatch_layout` and
      `moe.bias_update` become their kernels. With `fuse-gather` a
      permute's rows that only a routed expert GEMM reads are not copied:
      the GEMM gathers them (`deferred_gather`).

    The function gets its launcher ABI: a `moegpu.param` on every argument,
    its results as `output` arguments (returned values are written there)
    and a trailing `num_tokens` argument from which every dynamic size is
    computed. Limits of the kernels (KernelLimits.td) are diagnostics that
    name the limit.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90a\"",
           "GPU target (a target of KernelLimits.td: sm_80, sm_86, sm_89, "
           "sm_90, sm_90a)">,
    Option<"fuseGather", "fuse-gather", "bool", /*default=*/"false",
           "Let the routed expert GEMM gather a permute's rows instead of the "
           "permute copying them (no row copy; the workspace plan already "
           "shares the rows' memory)">,
    Option<"gemmFamily", "gemm-family", "std::string", /*default=*/"\"auto\"",
           "GEMM kernel family: auto (wgmma where the target and the shape "
           "allow it) or mma_sync (the portable kernels everywhere)">,
    Option<"gemmStore", "gemm-store", "std::string", /*default=*/"\"auto\"",
           "wgmma epilogue: auto (TMA stores for bf16 outputs) or registers">,
    Option<"tileChunk", "tile-chunk", "int64_t", /*default=*/"8",
           "row tiles of one expert the wgmma GEMMs run together (1-15)">
  ];
  let dependentDialects = [
    "::mlir::moegpu::MoeGPUDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def MoeGPUPlanMemory : Pass<"moegpu-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place a launcher's intermediate buffers in one workspace by live range";
  let description = [{
    Runs on bufferized launchers (after `one-shot-bufferize`). Every
    `memref.alloc` of a launcher becomes a `memref.view` into one workspace
    argument (`moegpu.param<workspace>`, before `num_tokens`). Buffers
    whose live ranges (first to last use in the launcher's straight-line
    body) do not overlap share memory: in decreasing order of their size at
    `reference-tokens` tokens, each buffer goes above every earlier-placed
    buffer it overlaps. The offsets are computed at run time from
    `num_tokens`, so the plan holds for every token count, and each buffer
    is aligned to `WorkspaceAlignment` bytes. The launcher gets a
    `moegpu.workspace` attribute (the plan, for the manifest) and a
    `<launcher>_workspace_size(num_tokens)` function returning the plan's
    peak. With `print` the plan is reported as a remark: each buffer's
    size and offset at `reference-tokens`, the workspace, the peak of
    simultaneously live buffers and the sum of all of them.
  }];
  let options = [
    Option<"print", "print", "bool", /*default=*/"false",
           "report the plan as a remark on each launcher">,
    Option<"referenceTokens", "reference-tokens", "int64_t",
           /*default=*/"65536",
           "token count whose sizes order the buffers (and that print shows)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

#endif // MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_TD
