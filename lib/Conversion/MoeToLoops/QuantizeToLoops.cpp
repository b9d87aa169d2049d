//===- QuantizeToLoops.cpp - FP8 activation quantisation as loops ---------===//

#include "FP8.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// For each token t and group g of `group` elements:
/// s = max(max |x|, 1e-4) / 448 (ue8m0: up to a power of two),
/// values = e4m3fn(x / s), scales[t, g] = s.
struct QuantizeToLoops : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value x = e.toBuffer(adaptor.getInput());
    int64_t group = op.getGroup();
    int64_t groups = op.getScales().getType().getDimSize(1);
    Value tokens = e.dim(x, 0), zero = e.idx(0), cG = e.idx(group);
    Type f8 = op.getValues().getType().getElementType();
    Value values = e.alloc(f8, {tokens, e.idx(groups * group)});
    Value scales = e.alloc(b.getF32Type(), {tokens, e.idx(groups)});
    e.loop(zero, tokens, [&](Value t) {
      e.loop(zero, e.idx(groups), [&](Value g) {
        Value base = e.mul(g, cG);
        Value s = quantizeGroup(
            e, cG,
            [&](Value i) {
              return e.toF32(e.load(x, {t, e.add(base, i)}));
            },
            [&](Value i, Value bits) {
              e.store(arith::BitcastOp::create(b, f8, bits), values,
                      {t, e.add(base, i)});
            },
            op.getUe8m0());
        e.store(s, scales, {t, g});
      });
    });
    rewriter.replaceOp(op, {e.toTensor(values, op.getValues().getType()),
                            e.toTensor(scales, op.getScales().getType())});
    return success();
  }
};

} // namespace

void mlir::moe::loops::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeToLoops>(patterns.getContext());
}
