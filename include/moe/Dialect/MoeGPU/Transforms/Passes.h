//===- Passes.h - moegpu dialect passes -------------------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_H
#define MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_H

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

namespace mlir::moegpu {

#define GEN_PASS_DECL
#include "moe/Dialect/MoeGPU/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "moe/Dialect/MoeGPU/Transforms/Passes.h.inc"

} // namespace mlir::moegpu

#endif // MOE_DIALECT_MOEGPU_TRANSFORMS_PASSES_H
