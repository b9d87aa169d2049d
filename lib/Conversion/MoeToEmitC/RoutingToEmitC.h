//===- RoutingToEmitC.h - the per-op CUDA lowerings ---------------*- C++
//-*-===//

#ifndef MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H
#define MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H

#include "EmitCUtils.h"

namespace mlir::moe::emitcuda {
/// moe.fused_route and moe.fused_route_stats: the kernel at module level and
/// its launch in the launcher body.
LogicalResult emitFusedRoute(Operation *op, LaunchContext &ctx);

/// moe.loss_from_stats, moe.fused_loss_grad, moe.bias_update.
LogicalResult emitLossFromStats(Operation *op, LaunchContext &ctx);
LogicalResult emitFusedLossGrad(Operation *op, LaunchContext &ctx);
LogicalResult emitBiasUpdate(Operation *op, LaunchContext &ctx);

/// moe.dispatch_layout, moe.permute, moe.combine (DispatchToEmitC.cpp).
LogicalResult emitDispatchLayout(Operation *op, LaunchContext &ctx);
LogicalResult emitPermute(Operation *op, LaunchContext &ctx);
LogicalResult emitCombine(Operation *op, LaunchContext &ctx);

/// moe.gate and moe.expert_ffn (ExpertsToEmitC.cpp).
LogicalResult emitGate(Operation *op, LaunchContext &ctx);
LogicalResult emitExpertFFN(Operation *op, LaunchContext &ctx);

/// The rows of a value's leading dimension, a C expression in moe_T:
/// static, T*K for a permute's rows (and the expert outputs of them), else
/// the token count.
std::string rowsExprOf(Value value);

/// Whether the routed expert GEMM reading a permute's rows can gather them
/// from the permute's input itself: the rows feed nothing else (and are
/// not returned, which the caller checks) and the GEMM's offsets are the
/// permute's.
bool canGatherRows(Operation *permute);

/// The permute scratch buffer holding each row's token (permuteScratch).
inline constexpr unsigned kRowTokenScratch = 3;

/// The workspace an op needs beyond its results.
SmallVector<Scratch> lossScratch(Operation *op);
SmallVector<Scratch> permuteScratch(Operation *op);
SmallVector<Scratch> gemmScratch(Operation *op);
/// The scratch buffers of any op (none for most).
SmallVector<Scratch> scratchOf(Operation *op);
} // namespace mlir::moe::emitcuda

#endif // MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H
