//===- KernelLimitChecks.h - diagnostics from KernelLimits.td ---*- C++ -*-===//
//
// The compiler's side of the kernel limits: checks of a value against a
// limit of include/moe/Runtime/cuda/KernelLimits.h (generated from
// KernelLimits.td), with a diagnostic that names the limit, its value and
// why it exists.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOEGPU_IR_KERNELLIMITCHECKS_H
#define MOE_DIALECT_MOEGPU_IR_KERNELLIMITCHECKS_H

#include "moe/Runtime/cuda/KernelLimits.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"

namespace mlir::moegpu {
using ::moe::limits::Id;

/// The value of a limit.
int64_t limit(Id id);

/// `value` (described by `what`, e.g. "'k' (40)") against limit `id`: at
/// most its value ("max") or a multiple of it ("multiple"). On failure
/// emits "<what> exceeds|is not a multiple of ... the CUDA kernels' limit
/// <Name> = <value> (<summary>)" through `emitError` and fails.
LogicalResult checkLimit(function_ref<InFlightDiagnostic()> emitError, Id id,
                         int64_t value, const Twine &what);

/// The target of KernelLimits.td named `name`, or null.
const ::moe::limits::Target *lookupTarget(StringRef name);

/// The names of all targets, comma-separated (for diagnostics).
std::string targetNames();
} // namespace mlir::moegpu

#endif // MOE_DIALECT_MOEGPU_IR_KERNELLIMITCHECKS_H
