//===- TranslateToCUDA.h - EmitC launchers to .cu, .h, manifest -*- C++ -*-===//

#ifndef MOE_TARGET_CUDA_TRANSLATETOCUDA_H
#define MOE_TARGET_CUDA_TRANSLATETOCUDA_H

#include "mlir/Support/LLVM.h"

#include <functional>

namespace llvm {
class raw_ostream;
}

namespace mlir {
class DialectRegistry;
class Operation;
namespace moe {

/// Prints the CUDA source (.cu) of a module lowered to EmitC
/// (moe-lower-to-cuda); anything else is an error.
LogicalResult translateToCUDA(Operation *module, llvm::raw_ostream &os);

/// Prints the matching header (.h): the extern "C" launchers with their
/// parameters documented.
LogicalResult translateToCUDAHeader(Operation *module, llvm::raw_ostream &os);

/// Prints the JSON manifest of the launcher ABI (docs/abi.md).
LogicalResult translateToCUDAManifest(Operation *module, llvm::raw_ostream &os);

/// How a translation turns its input into EmitC first (moe-translate and the
/// C API run moe-lower-to-cuda on moe-level input); null: the input must be
/// EmitC already.
using CUDALowering = std::function<LogicalResult(Operation *)>;

/// Registers --mlir-to-cuda, --mlir-to-cuda-header and
/// --mlir-to-cuda-manifest, each lowering with `lower` first and parsing with
/// the dialects `dialects` adds (beside EmitC and moegpu).
void registerToCUDATranslations(
    CUDALowering lower = nullptr,
    std::function<void(DialectRegistry &)> dialects = nullptr);

} // namespace moe
} // namespace mlir

#endif // MOE_TARGET_CUDA_TRANSLATETOCUDA_H
