//===- Pipelines.cpp - registered moe pipelines ---------------------------===//

#include "moe/Pipelines/Pipelines.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"
#include "moe/Dialect/MoeGPU/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/Operation.h"
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
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  moegpu::MoeGPUConfigureOptions configure;
  configure.target = options.target;
  configure.fuseGather = options.fuseGather;
  configure.gemmFamily = options.gemmFamily;
  configure.gemmStore = options.gemmStore;
  configure.tileChunk = options.tileChunk;
  pm.addPass(moegpu::createMoeGPUConfigure(configure));
  pm.addPass(createCanonicalizerPass());
  // Results are written into the launcher's output arguments, so the
  // function boundary keeps identity layouts and bufferizes in place.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  moegpu::MoeGPUPlanMemoryOptions plan;
  plan.print = options.printMemoryPlan;
  pm.addPass(moegpu::createMoeGPUPlanMemory(plan));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(moe::createConvertMoeGPUToEmitC());
}

LogicalResult mlir::moe::lowerToCUDAIfNeeded(Operation *module) {
  WalkResult found = module->walk([&](Operation *op) {
    return op != module && !isa<emitc::EmitCDialect>(op->getDialect())
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  if (!found.wasInterrupted())
    return success();
  PassManager pm(module->getContext(), module->getName().getStringRef());
  buildLowerToCUDAPipeline(pm);
  return pm.run(module);
}

void mlir::moe::registerMoePipelines() {
  PassPipelineRegistration<LowerToCUDAOptions>(
      "moe-lower-to-cuda",
      "Lower the moe dialect to CUDA kernels and extern \"C\" launchers in "
      "EmitC (expand, configure for a target, bufferize, plan the "
      "workspace, convert); print with moe-translate --mlir-to-cuda",
      buildLowerToCUDAPipeline);
  PassPipelineRegistration<>(
      "moe-lower-to-cpu",
      "Lower the moe dialect to the LLVM dialect for the CPU (loops, "
      "bufferization, deallocation, C interfaces)",
      buildLowerToCPUPipeline);
}
