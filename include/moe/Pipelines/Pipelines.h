//===- Pipelines.h - registered moe pipelines -------------------*- C++ -*-===//

#ifndef MOE_PIPELINES_PIPELINES_H
#define MOE_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
class Operation;
namespace moe {

/// Options of moe-lower-to-cuda (those of moegpu-configure and
/// moegpu-plan-memory).
struct LowerToCUDAOptions : public PassPipelineOptions<LowerToCUDAOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("GPU target (sm_80, sm_86, sm_89, sm_90, sm_90a)"),
      llvm::cl::init("sm_90a")};
  Option<bool> fuseGather{
      *this, "fuse-gather",
      llvm::cl::desc("Let the routed expert GEMM gather a permute's rows "
                     "from its input instead of the permute copying them "
                     "(no row copy; slower on sm_90, see "
                     "moegpu-configure)"),
      llvm::cl::init(false)};
  Option<std::string> gemmFamily{
      *this, "gemm-family",
      llvm::cl::desc("auto (wgmma where the target and shapes allow) or "
                     "mma_sync (the portable GEMMs everywhere)"),
      llvm::cl::init("auto")};
  Option<std::string> gemmStore{
      *this, "gemm-store",
      llvm::cl::desc("auto (TMA stores for bf16 wgmma outputs) or registers"),
      llvm::cl::init("auto")};
  Option<int64_t> tileChunk{
      *this, "tile-chunk",
      llvm::cl::desc("row tiles of one expert the wgmma GEMMs run together"),
      llvm::cl::init(8)};
  Option<bool> printMemoryPlan{
      *this, "print-memory-plan",
      llvm::cl::desc("report each launcher's workspace plan as a remark"),
      llvm::cl::init(false)};
};

/// moe-lower-to-cpu: moe dialect (tensors) to the LLVM dialect through the
/// loop lowering, one-shot bufferization and buffer deallocation. Functions
/// get C interfaces (`_mlir_ciface_*`) for the ExecutionEngine.
void buildLowerToCPUPipeline(OpPassManager &pm);

/// moe-lower-to-cuda: moe dialect (tensors) to EmitC: moe-expand-layer,
/// canonicalize, cse, moegpu-configure, canonicalize, one-shot-bufferize
/// (function boundaries), moegpu-plan-memory, canonicalize, cse,
/// convert-moegpu-to-emitc.
void buildLowerToCUDAPipeline(OpPassManager &pm,
                              const LowerToCUDAOptions &options = {});

/// Runs moe-lower-to-cuda (default options) on `module` unless every op in
/// it is EmitC already: what moe-translate and the C API do before printing
/// CUDA.
LogicalResult lowerToCUDAIfNeeded(Operation *module);

/// Registers the pipelines above with the global pass registry.
void registerMoePipelines();

} // namespace moe
} // namespace mlir

#endif // MOE_PIPELINES_PIPELINES_H
