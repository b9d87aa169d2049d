//===- MoeToLoops.h - moe ops as loop nests ---------------------*- C++ -*-===//

#ifndef MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H
#define MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H

#include <cstdint>

namespace mlir {
class RewritePatternSet;
namespace moe {
/// Preconditions the verifier cannot see (they depend on a dynamic size)
/// do not abort the lowered program: it goes on safely and records the
/// first failure in the public global `moe_runtime_error`, two i64s
/// {kind, value}, zero while nothing failed. Callers of the compiled code
/// clear it before a call and read it after (moe_mlir.cpu does).
constexpr const char *kRuntimeErrorSymbol = "moe_runtime_error";
enum class RuntimeError : int64_t {
  None = 0,
  /// The token count is not a multiple of a loss's seq_len (the value).
  PartialSequence = 1,
};

/// Patterns that lower every moe op (moe.layer through its expansion) to
/// scf/arith/math/memref loops between bufferization.to_buffer and
/// bufferization.to_tensor.
void populateMoeToLoopsPatterns(RewritePatternSet &patterns);
} // namespace moe
} // namespace mlir

#endif // MOE_CONVERSION_MOETOLOOPS_MOETOLOOPS_H
