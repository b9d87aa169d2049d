//===- moe-plugin.cpp - moe dialect and passes as an mlir-opt plugin ------===//

#include "moe/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Moe", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            moe::registerAllDialects(*registry);
            moe::registerAllPasses();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "MoePasses", LLVM_VERSION_STRING,
          []() { moe::registerAllPasses(); }};
}
