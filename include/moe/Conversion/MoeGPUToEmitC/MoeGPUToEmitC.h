//===- MoeGPUToEmitC.h - moegpu kernels as CUDA through EmitC ---*- C++ -*-===//

#ifndef MOE_CONVERSION_MOEGPUTOEMITC_MOEGPUTOEMITC_H
#define MOE_CONVERSION_MOEGPUTOEMITC_MOEGPUTOEMITC_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMap.h"

#include <string>

namespace mlir {
class Operation;
class RewritePatternSet;
class TypeConverter;
namespace moegpu {

/// The name prefix of each kernel op's kernels: `<launcher>_k<index>`.
using KernelNames = llvm::DenseMap<Operation *, std::string>;

/// The types of a launcher: memrefs become pointers to their element type,
/// index becomes int64_t.
void populateMoeGPUToEmitCTypeConversion(TypeConverter &converter);

/// The launcher and workspace-size functions, their returns, index
/// arithmetic, workspace views: the host side of the launchers.
void populateLauncherToEmitCPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns);

/// One pattern per kernel op: its CUDA kernel(s) at module level and their
/// launch in the launcher (RoutingToEmitC.cpp, DispatchToEmitC.cpp,
/// GemmToEmitC.cpp, CopyToEmitC.cpp).
void populateRoutingToEmitCPatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns,
                                    const KernelNames &names);
void populateDispatchToEmitCPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns,
                                     const KernelNames &names);
void populateGemmToEmitCPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const KernelNames &names);
/// moegpu.copy and moegpu.zero: runtime calls on the stream
/// (CopyToEmitC.cpp).
void populateCopyToEmitCPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const KernelNames &names);

} // namespace moegpu
} // namespace mlir

#endif // MOE_CONVERSION_MOEGPUTOEMITC_MOEGPUTOEMITC_H
