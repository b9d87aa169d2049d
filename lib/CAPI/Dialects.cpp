//===- Dialects.cpp - C API for the moe dialect ---------------------------===//

#include "moe-c/Dialects.h"

#include "mlir/CAPI/Registration.h"
#include "moe/Dialect/Moe/IR/MoeDialect.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Moe, moe, mlir::moe::MoeDialect)
