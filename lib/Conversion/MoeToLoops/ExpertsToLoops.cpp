//===- ExpertsToLoops.cpp - grouped SwiGLU FFN as loops -------------------===//

#include "LoopEmitter.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// For each expert e and row r in [offsets[e], offsets[e+1]):
/// h = round(silu(x·Wgᵀ) · (x·Wuᵀ)), y = round(h·Wdᵀ), silu(g) = g/(1+e^-g).
/// Offsets are clamped to [0, rows] so malformed offsets cannot write out of
/// bounds; rows owned by no expert are zero.
struct ExpertFFNToLoops : OpConversionPattern<ExpertFFNOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpertFFNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Type elementType = op.getType().getElementType();
    Value x = e.toBuffer(adaptor.getRows());
    Value gateUp = e.toBuffer(adaptor.getGateUp());
    Value down = e.toBuffer(adaptor.getDown());
    Value offsets =
        adaptor.getOffsets() ? e.toBuffer(adaptor.getOffsets()) : Value();
    int64_t numExperts = op.getGateUp().getType().getDimSize(0);
    int64_t width = op.getDown().getType().getDimSize(2);
    Value zero = e.idx(0), one = e.f32(1.0);
    Value numRows = e.dim(x, 0), hidden = e.dim(x, 1), cI = e.idx(width);
    Value out = e.alloc(elementType, {numRows, hidden});
    e.fill(out, arith::ConstantOp::create(b, b.getZeroAttr(elementType)));
    Value act = e.alloc(b.getF32Type(), {cI});

    auto dot = [&](Value row, Value wMem, Value ex, Value wRow, Value len,
                   function_ref<Value(Value)> lhs) {
      return e.loop(
          zero, len, ValueRange{e.f32(0.0)},
          [&](Value j, ValueRange acc) -> SmallVector<Value> {
            Value prod = e.mul(lhs(j), e.toF32(e.load(wMem, {ex, wRow, j})));
            return {e.add(acc[0], prod)};
          })[0];
    };
    auto clampRow = [&](Value r, Value lo) {
      Value v = e.i32ToIndex(r);
      v = arith::MaxSIOp::create(b, v, lo);
      return arith::MinSIOp::create(b, v, numRows);
    };

    e.loop(zero, e.idx(numExperts), [&](Value ex) {
      Value lo = zero, hi = numRows;
      if (offsets) {
        lo = clampRow(e.load(offsets, {ex}), zero);
        hi = clampRow(e.load(offsets, {e.add(ex, e.idx(1))}), lo);
      }
      e.loop(lo, hi, [&](Value r) {
        auto xr = [&](Value h) { return e.toF32(e.load(x, {r, h})); };
        e.loop(zero, cI, [&](Value i) {
          Value g = dot(r, gateUp, ex, i, hidden, xr);
          Value u = dot(r, gateUp, ex, e.add(i, cI), hidden, xr);
          Value silu = e.div(g, e.add(one, e.exp(arith::NegFOp::create(b, g))));
          Value h = e.toF32(e.fromF32(e.mul(silu, u), elementType));
          e.store(h, act, {i});
        });
        e.loop(zero, hidden, [&](Value h) {
          Value y = dot(r, down, ex, h, cI,
                        [&](Value i) { return e.load(act, {i}); });
          e.store(e.fromF32(y, elementType), out, {r, h});
        });
      });
    });
    rewriter.replaceOp(op, e.toTensor(out, op.getType()));
    return success();
  }
};

} // namespace

void mlir::moe::loops::populateExpertPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpertFFNToLoops>(patterns.getContext());
}
