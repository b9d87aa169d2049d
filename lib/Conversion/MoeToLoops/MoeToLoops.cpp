//===- MoeToLoops.cpp - the convert-moe-to-loops pass ---------------------===//

#include "Patterns.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOETOLOOPS
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

void mlir::moe::populateMoeToLoopsPatterns(RewritePatternSet &patterns) {
  populateExpandLayerPatterns(patterns);
  loops::populateRoutingPatterns(patterns);
  loops::populateDispatchPatterns(patterns);
  loops::populateExpertPatterns(patterns);
  loops::populateBalancePatterns(patterns);
}

namespace {
struct ConvertMoeToLoopsPass
    : moe::impl::ConvertMoeToLoopsBase<ConvertMoeToLoopsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<MoeDialect>();
    target.addLegalDialect<arith::ArithDialect,
                           bufferization::BufferizationDialect,
                           cf::ControlFlowDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect>();
    RewritePatternSet patterns(ctx);
    populateMoeToLoopsPatterns(patterns);
    ConversionConfig config;
    config.allowPatternRollback = false;
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns), config)))
      signalPassFailure();
  }
};
} // namespace
