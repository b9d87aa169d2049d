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
  }];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // MOE_CONVERSION_PASSES_TD
