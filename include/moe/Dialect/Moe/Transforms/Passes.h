//===- Passes.h - moe dialect transformation passes -------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOE_TRANSFORMS_PASSES_H
#define MOE_DIALECT_MOE_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"

namespace mlir {
class RewritePatternSet;
namespace moe {

#define GEN_PASS_DECL
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"

/// The discardable attribute that carries a layer's topology on its
/// moe.route after expansion.
inline constexpr llvm::StringLiteral kTopologyAttrName = "moe.topology";

/// Patterns that rewrite moe.layer into the primitive ops.
void populateExpandLayerPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"

} // namespace moe
} // namespace mlir

#endif // MOE_DIALECT_MOE_TRANSFORMS_PASSES_H
