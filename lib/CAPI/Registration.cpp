//===- Registration.cpp - register moe dialects and passes ----------------===//

#include "moe-c/Registration.h"

#include "mlir/CAPI/IR.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "moe/InitAll.h"

void moeRegisterAllDialects(MlirContext context) {
  mlir::DialectRegistry registry;
  mlir::moe::registerAllDialects(registry);
  unwrap(context)->appendDialectRegistry(registry);
}

void moeRegisterAllPasses(void) { mlir::moe::registerAllPasses(); }
