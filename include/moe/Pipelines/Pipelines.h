//===- Pipelines.h - registered moe pipelines -------------------*- C++ -*-===//

#ifndef MOE_PIPELINES_PIPELINES_H
#define MOE_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace moe {

/// Options of moe-lower-to-cuda.
struct LowerToCUDAOptions : public PassPipelineOptions<LowerToCUDAOptions> {
  Option<bool> fuseGather{
      *this, "fuse-gather",
      llvm::cl::desc("Let the routed expert GEMM gather a permute's rows "
                     "from its input instead of the permute copying them "
                     "(no [T*K, H] rows buffer; slower on sm_90, see "
                     "convert-moe-to-emitc)"),
      llvm::cl::init(false)};
};

/// moe-lower-to-cpu: moe dialect (tensors) to the LLVM dialect through the
/// loop lowering, one-shot bufferization and buffer deallocation. Functions
/// get C interfaces (`_mlir_ciface_*`) for the ExecutionEngine.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// moe-lower-to-cuda: moe dialect (tensors) to EmitC: moe-expand-layer,
/// moe-fuse-routing, canonicalize, cse, convert-moe-to-emitc.
void buildLowerToCUDAPipeline(OpPassManager &pm,
                              const LowerToCUDAOptions &options = {});

/// Registers the pipelines above with the global pass registry.
void registerMoePipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_PIPELINES_PIPELINES_H
