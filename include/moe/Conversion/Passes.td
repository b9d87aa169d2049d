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

def ConvertMoeGPUToEmitC : Pass<"convert-moegpu-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower planned moegpu launchers to CUDA kernels and launchers in EmitC";
  let description = [{
    Runs on launchers that are configured (`moegpu-configure`), bufferized
    and planned (`moegpu-plan-memory`). Each launcher becomes an
    `extern "C"` host function

    ```c
    cudaError_t name(const In* inputs..., Out* outputs..., [void* workspace,]
                     int64_t num_tokens, cudaStream_t stream)
    ```

    that checks its arguments (a negative or, for a static launcher, wrong
    token count, a missing workspace), computes its sizes and workspace
    offsets, launches its kernels and returns the first CUDA error; it never
    synchronises. Each `<launcher>_workspace_size` becomes
    `extern "C" size_t <launcher>_workspace_size(int64_t num_tokens)`. Each
    kernel op becomes, through its own conversion pattern, a `static
    __global__` specialisation of a kernel of `include/moe/Runtime/cuda`
    with every constant and every decision of its configuration a template
    argument, named `<launcher>_k<index>`. The launchers keep their
    `moegpu.param` attributes (with the tensor types), from which
    `moe-translate --mlir-to-cuda-header` and `--mlir-to-cuda-manifest`
    print the header and the JSON manifest.
  }];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // MOE_CONVERSION_PASSES_TD
