//===- InitAll.cpp - register everything moe tools need -------------------===//

#include "moe/InitAll.h"

#include "moe/Dialect/Moe/IR/MoeDialect.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"
#include "moe/Dialect/MoeGPU/Transforms/Passes.h"

#include "moe/Conversion/Passes.h"
#include "moe/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

// The moe pipelines end in upstream dialects of every level (bufferization,
// LLVM, EmitC, ...) and users mix moe ops with their own upstream IR, so the
// tools register all upstream dialects, extensions and passes, as mlir-opt
// does.
void mlir::moe::registerAllDialects(DialectRegistry &registry) {
  registry.insert<moe::MoeDialect, moegpu::MoeGPUDialect>();
  moegpu::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // The ExecutionEngine translates the LLVM dialect to LLVM IR.
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
}

void mlir::moe::registerAllPasses() {
  // Pass registration is global; do it once however many tools ask.
  static bool once = [] {
    mlir::registerAllPasses();
    moe::registerMoePasses();
    moegpu::registerMoeGPUPasses();
    moe::registerMoeConversionPasses();
    moe::registerMoePipelines();
    return true;
  }();
  (void)once;
}
