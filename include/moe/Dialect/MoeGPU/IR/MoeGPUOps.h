//===- MoeGPUOps.h - the moegpu operations ----------------------*- C++ -*-===//

#ifndef MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_H
#define MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_H

#include "moe/Dialect/Moe/IR/MoeTraits.h"
#include "moe/Dialect/MoeGPU/IR/MoeGPUDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUInterfaces.h.inc"

#define GET_OP_CLASSES
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h.inc"

namespace mlir::moegpu {
/// The index of a kernel op among the kernel ops of its block (the i of the
/// emitted kernel `<launcher>_k<i>`).
unsigned kernelIndex(Operation *kernel);

/// Registers the bufferization models of the moegpu ops (destination style:
/// each init is written in place, inputs are read).
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace mlir::moegpu

#endif // MOE_DIALECT_MOEGPU_IR_MOEGPUOPS_H
