//===- MoeToLoops.cpp - the convert-moe-to-loops pass ---------------------===//

#include "LoopEmitter.h"
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

void loops::LoopEmitter::reportUnless(Value ok, RuntimeError kind,
                                      Value value) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (!module) {
    // Nowhere to keep a record: stop the program instead.
    cf::AssertOp::create(b, ok, "moe: a run-time precondition failed");
    return;
  }
  auto type = MemRefType::get({2}, b.getI64Type());
  if (!SymbolTable::lookupSymbolIn(module, kRuntimeErrorSymbol)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, b.getStringAttr(kRuntimeErrorSymbol), StringAttr(),
        TypeAttr::get(type),
        DenseElementsAttr::get(RankedTensorType::get({2}, b.getI64Type()),
                               b.getI64IntegerAttr(0).getValue()),
        UnitAttr(), IntegerAttr());
  }
  Value bad = arith::XOrIOp::create(b, ok, boolean(true));
  auto ifBad = scf::IfOp::create(b, bad, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifBad.thenBlock());
  Value record = memref::GetGlobalOp::create(b, type, kRuntimeErrorSymbol);
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                      load(record, {idx(0)}), i64(0));
  auto ifFirst = scf::IfOp::create(b, first, /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifFirst.thenBlock());
  store(i64(static_cast<int64_t>(kind)), record, {idx(0)});
  store(value, record, {idx(1)});
}

void mlir::moe::populateMoeToLoopsPatterns(RewritePatternSet &patterns) {
  populateExpandLayerPatterns(patterns);
  loops::populateRoutingPatterns(patterns);
  loops::populateDispatchPatterns(patterns);
  loops::populateExpertPatterns(patterns);
  loops::populateBalancePatterns(patterns);
  loops::populateQuantizePatterns(patterns);
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
