//===- KernelLimitChecks.cpp - diagnostics from KernelLimits.td -----------===//

#include "moe/Dialect/MoeGPU/IR/KernelLimitChecks.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::moegpu;
namespace limits = ::moe::limits;

static const limits::Limit &info(Id id) {
  return limits::kLimits[static_cast<int>(id)];
}

int64_t mlir::moegpu::limit(Id id) { return info(id).value; }

LogicalResult
mlir::moegpu::checkLimit(function_ref<InFlightDiagnostic()> emitError, Id id,
                         int64_t value, const Twine &what) {
  const limits::Limit &l = info(id);
  switch (l.kind) {
  case limits::Kind::Max:
    if (value <= l.value)
      return success();
    return emitError() << what << " exceeds the CUDA kernels' limit " << l.name
                       << " = " << l.value << " (" << l.summary << ")";
  case limits::Kind::Multiple:
    if (value % l.value == 0)
      return success();
    return emitError() << what << " is not a multiple of the CUDA kernels' "
                       << l.name << " = " << l.value << " (" << l.summary
                       << ")";
  case limits::Kind::Param:
    if (value == l.value)
      return success();
    return emitError() << what << " differs from the CUDA kernels' " << l.name
                       << " = " << l.value << " (" << l.summary << ")";
  }
  llvm_unreachable("unknown limit kind");
}

const limits::Target *mlir::moegpu::lookupTarget(StringRef name) {
  for (const limits::Target &target : limits::kTargets)
    if (name == target.name)
      return &target;
  return nullptr;
}

std::string mlir::moegpu::targetNames() {
  SmallVector<StringRef> names;
  for (const limits::Target &target : limits::kTargets)
    names.push_back(target.name);
  return llvm::join(names, ", ");
}
