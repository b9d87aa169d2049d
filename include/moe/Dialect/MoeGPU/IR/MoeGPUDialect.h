//===- MoeGPUDialect.h - the moegpu dialect ---------------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOEGPU_IR_MOEGPUDIALECT_H
#define MOE_DIALECT_MOEGPU_IR_MOEGPUDIALECT_H

#include "moe/Dialect/Moe/IR/MoeDialect.h"
#include "moe/Runtime/cuda/KernelLimits.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUEnums.h.inc"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "moe/Dialect/MoeGPU/IR/MoeGPUAttrs.h.inc"

namespace mlir::moegpu {
/// The C type of a launcher element type ("__nv_bfloat16", "int32_t", ...),
/// shared by the kernels, the header and the manifest; "<unsupported>" for
/// a type the launcher ABI does not have.
std::string cElementTypeName(Type type);
} // namespace mlir::moegpu

#endif // MOE_DIALECT_MOEGPU_IR_MOEGPUDIALECT_H
