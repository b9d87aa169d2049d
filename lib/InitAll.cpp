//===- InitAll.cpp - register everything moe tools need -------------------===//

#include "moe/InitAll.h"

#include "moe/Dialect/Moe/IR/MoeDialect.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::moe::registerAllDialects(DialectRegistry &registry) {
  registry.insert<moe::MoeDialect, arith::ArithDialect, func::FuncDialect,
                  tensor::TensorDialect>();
}

void mlir::moe::registerAllPasses() {
  // Pass registration is global; do it once however many tools ask.
  static bool once = [] {
    moe::registerMoePasses();
    mlir::registerTransformsPasses();
    return true;
  }();
  (void)once;
}
