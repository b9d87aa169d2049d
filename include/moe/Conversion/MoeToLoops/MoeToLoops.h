//===- MoeToLoops.h - moe ops as loop nests ---------------------*- C++ -*-===//

#ifndef MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H
#define MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H

namespace mlir {
class RewritePatternSet;
namespace moe {
/// Patterns that lower every moe op (moe.layer through its expansion) to
/// scf/arith/math/memref loops between bufferization.to_buffer and
/// bufferization.to_tensor.
void populateMoeToLoopsPatterns(RewritePatternSet &patterns);
} // namespace moe
} // namespace mlir

#endif // MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H
