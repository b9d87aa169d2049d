//===- Patterns.h - moe-to-loops pattern families ---------------*- C++ -*-===//

#ifndef MOE_LIB_CONVERSION_MOETOLOOPS_PATTERNS_H
#define MOE_LIB_CONVERSION_MOETOLOOPS_PATTERNS_H

namespace mlir {
class RewritePatternSet;
namespace moe::loops {
/// moe.gate, moe.score, moe.route, moe.expert_counts.
void populateRoutingPatterns(RewritePatternSet &patterns);
/// moe.dispatch_layout, moe.permute, moe.combine.
void populateDispatchPatterns(RewritePatternSet &patterns);
/// moe.expert_ffn.
void populateExpertPatterns(RewritePatternSet &patterns);
/// moe.balance_loss, moe.balance_loss_grad, moe.bias_update.
void populateBalancePatterns(RewritePatternSet &patterns);
/// moe.quantize (FP8 activation quantisation).
void populateQuantizePatterns(RewritePatternSet &patterns);
} // namespace moe::loops
} // namespace mlir

#endif // MOE_LIB_CONVERSION_MOETOLOOPS_PATTERNS_H
