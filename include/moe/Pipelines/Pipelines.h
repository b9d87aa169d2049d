//===- Pipelines.h - registered moe pipelines -------------------*- C++ -*-===//

#ifndef MOE_PIPELINES_PIPELINES_H
#define MOE_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
namespace moe {

/// moe-lower-to-cpu: moe dialect (tensors) to the LLVM dialect through the
/// loop lowering, one-shot bufferization and buffer deallocation. Functions
/// get C interfaces (`_mlir_ciface_*`) for the ExecutionEngine.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// moe-lower-to-cuda: moe dialect (tensors) to EmitC: moe-expand-layer,
/// moe-fuse-routing, canonicalize, cse, convert-moe-to-emitc.
void buildLowerToCUDAPipeline(OpPassManager &pm);

/// Registers the pipelines above with the global pass registry.
void registerMoePipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_PIPELINES_PIPELINES_H
