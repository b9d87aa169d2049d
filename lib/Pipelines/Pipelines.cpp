//===- Pipelines.cpp - registered moe pipelines ---------------------------===//

#include "moe/Pipelines/Pipelines.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

// The upstream part of the lowering, spelled as a textual pipeline so it
// reads like the mlir-opt command it replaces.
static constexpr const char *kCPUToLLVM =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,"
    "canonicalize,cse,"
    "convert-bufferization-to-memref,"
    "func.func(llvm-request-c-wrappers),"
    "convert-scf-to-cf,"
    "expand-strided-metadata,"
    "lower-affine,"
    "finalize-memref-to-llvm,"
    "convert-math-to-llvm,"
    "convert-arith-to-llvm,"
    "convert-cf-to-llvm,"
    "convert-func-to-llvm,"
    "convert-index-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::moe::buildLowerToCPUPipeline(OpPassManager &pm) {
  pm.addPass(moe::createMoeExpandLayer());
  pm.addPass(moe::createConvertMoeToLoops());
  if (failed(parsePassPipeline(kCPUToLLVM, pm, llvm::errs())))
    llvm::report_fatal_error("moe-lower-to-cpu: upstream passes missing");
}

void mlir::moe::buildLowerToCUDAPipeline(OpPassManager &pm,
                                         const LowerToCUDAOptions &options) {
  pm.addPass(moe::createMoeExpandLayer());
  pm.addPass(moe::createMoeFuseRouting());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  moe::ConvertMoeToEmitCOptions emitc;
  emitc.fuseGather = options.fuseGather;
  pm.addPass(moe::createConvertMoeToEmitC(emitc));
}

void mlir::moe::registerMoePipelines() {
  PassPipelineRegistration<LowerToCUDAOptions>(
      "moe-lower-to-cuda",
      "Lower the moe dialect to CUDA kernels and extern \"C\" launchers in "
      "EmitC (expand, fuse, convert); print with moe-translate "
      "--mlir-to-cuda",
      buildLowerToCUDAPipeline);
  PassPipelineRegistration<>(
      "moe-lower-to-cpu",
      "Lower the moe dialect to the LLVM dialect for the CPU (loops, "
      "bufferization, deallocation, C interfaces)",
      buildLowerToCPUPipeline);
}
