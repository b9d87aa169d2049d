//===- RoutingToEmitC.h - moe.fused_route as a CUDA kernel ------*- C++ -*-===//

#ifndef MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H
#define MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H

#include "EmitCUtils.h"

namespace mlir::moe {
class FusedRouteOp;
namespace emitcuda {
/// Emits the kernel of `op` at module level and its launch into the
/// launcher body.
LogicalResult emitFusedRoute(FusedRouteOp op, LaunchContext &ctx);
} // namespace emitcuda
} // namespace mlir::moe

#endif // MOE_LIB_CONVERSION_MOETOEMITC_ROUTINGTOEMITC_H
