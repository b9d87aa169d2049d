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

#endif // MOE_CONVERSION_PASSES_TD
