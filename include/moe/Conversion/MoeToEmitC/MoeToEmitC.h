//===- MoeToEmitC.h - fused moe ops as CUDA through EmitC -------*- C++ -*-===//

#ifndef MOE_CONVERSION_MOETOEMITC_MOETOEMITC_H
#define MOE_CONVERSION_MOETOEMITC_MOETOEMITC_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class Operation;
namespace moe {

/// Attribute names on the emitted launchers, read by the header printer.
inline constexpr llvm::StringLiteral kLauncherAttr = "moe.launcher";
inline constexpr llvm::StringLiteral kArgNamesAttr = "moe.arg_names";
inline constexpr llvm::StringLiteral kArgTypesAttr = "moe.arg_types";
inline constexpr llvm::StringLiteral kDocAttr = "moe.doc";
inline constexpr llvm::StringLiteral kResultTypeAttr = "moe.result_type";

/// Why the CUDA routing kernel cannot serve `op` (a moe.fused_route), or
/// success. Shared by the conversion and its tests.
LogicalResult checkRoutingKernelLimits(Operation *op);

} // namespace moe
} // namespace mlir

#endif // MOE_CONVERSION_MOETOEMITC_MOETOEMITC_H
