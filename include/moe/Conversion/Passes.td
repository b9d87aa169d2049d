//===- Passes.td - moe conversion passes -------------------*- tablegen -*-===//

#ifndef MOE_CONVERSION_PASSES_TD
#define MOE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMoeToLoops : Pass<"convert-moe-to-loops"> {
  let summary = "Lower every moe op to scf/arith/math/memref loop nests";
  let description = [{
    The CPU reference lowering. Each moe op becomes explicit loops over
    memrefs (its tensor operands are read through `bufferization.to_buffer`,
    its results are fresh buffers wrapped by `bufferization.to_tensor`), so
    one-shot bufferization finishes the job. `moe.layer` is expanded on the
    way. The loops implement the op descriptions to the letter: routing order
    (larger first, NaN last, lower index on ties), groups outside the chosen
    ones never eligible, f32 routing arithmetic, f64 loss statistics,
    expert-major stable permutation, slot-ordered combine.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def ConvertMoeToEmitC : Pass<"convert-moe-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower fused moe ops to CUDA kernels and launchers in EmitC";
  let description = [{
    Every `func.func` whose body is fused moe ops becomes an `extern "C"`
    host launcher `cudaError_t name(const In* inputs..., Out* outputs...,
    int64_t num_tokens, cudaStream_t stream)` that never synchronises, and
    every fused op a specialised `__global__` kernel: E, K, the groups, the
    group-score rule, the score function and the dtypes are compile-time
    constants of the emitted code (a `RouteSpec` of the CUDA runtime in
    `include/moe/Runtime/cuda`), T stays a runtime argument and T = 0 is a
    no-op. A configuration the kernels cannot serve is a diagnostic naming
    the limit. `moe-translate --mlir-to-cuda` / `--mlir-to-cuda-header`
    print the result.

    With `fuse-gather`, a permute's rows that only a routed
    `moe.expert_ffn` reads (with the permute's offsets) are not copied: the
    gate/up GEMM reads each row from the permute's input through the
    permute's row-to-token map. That saves the copy kernel and its
    [T*K, H] workspace (470 MB for DeepSeek-V3 at T = 4096), but on sm_90
    the gathering GEMM loses more than the copy costs (its rows come by
    cp.async instead of TMA: the layer is 0.2-0.3 ms slower at T = 4096,
    docs/performance.md), so it is off unless memory matters more.
  }];
  let options = [
    Option<"fuseGather", "fuse-gather", "bool", /*default=*/"false",
           "Let the expert GEMM gather a permute's rows instead of the "
           "permute copying them (no [T*K, H] rows buffer)">
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // MOE_CONVERSION_PASSES_TD
