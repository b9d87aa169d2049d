//===- MoeDialect.h - moe dialect, enums and attributes ---------*- C++ -*-===//

#ifndef MOE_DIALECT_MOE_IR_MOEDIALECT_H
#define MOE_DIALECT_MOE_IR_MOEDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "moe/Dialect/Moe/IR/MoeEnums.h.inc"
#include "moe/Dialect/Moe/IR/MoeOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "moe/Dialect/Moe/IR/MoeAttrs.h.inc"

namespace mlir::moe {
/// The group-score rule without the attribute wrapper: `max` or
/// `topk_sum<n>`. Shared by the attribute and the op formats.
ParseResult parseGroupScoreBody(AsmParser &parser, GroupScoreAttr &attr);
void printGroupScoreBody(AsmPrinter &printer, GroupScoreAttr attr);
} // namespace mlir::moe

#endif // MOE_DIALECT_MOE_IR_MOEDIALECT_H
