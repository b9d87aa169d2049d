//===- TranslateToCUDA.h - EmitC launchers to .cu and .h --------*- C++ -*-===//

#ifndef MOE_TARGET_CUDA_TRANSLATETOCUDA_H
#define MOE_TARGET_CUDA_TRANSLATETOCUDA_H

#include "mlir/Support/LLVM.h"

namespace llvm {
class raw_ostream;
}

namespace mlir {
class Operation;
namespace moe {

/// Prints the CUDA source (.cu) of a module. A module still holding moe or
/// func ops is first lowered with moe-lower-to-cuda.
LogicalResult translateToCUDA(Operation *module, llvm::raw_ostream &os);

/// Prints the matching header (.h): the extern "C" launchers with their
/// parameters documented.
LogicalResult translateToCUDAHeader(Operation *module, llvm::raw_ostream &os);

/// Registers --mlir-to-cuda and --mlir-to-cuda-header.
void registerToCUDATranslations();

} // namespace moe
} // namespace mlir

#endif // MOE_TARGET_CUDA_TRANSLATETOCUDA_H
