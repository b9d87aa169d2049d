//===- RoutingToEmitC.h - moe.fused_route as a CUDA kernel ------*- C++ -*-===//

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

/// The workspace a loss reduction needs beyond its results.
SmallVector<Scratch> lossScratch(Operation *op);
} // namespace mlir::moe::emitcuda

#endif // MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H
