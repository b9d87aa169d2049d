//===- RoutingToLoops.cpp - gate, score, route, counts as loops -----------===//

#include "LoopEmitter.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// z[t, e] = Σ_h x[t, h] · W[e, h], in f32, h ascending, rounded once to
/// the logits' type.
struct GateToLoops : OpConversionPattern<GateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value x = e.toBuffer(adaptor.getInput());
    Value w = e.toBuffer(adaptor.getWeight());
    Value numTokens = e.dim(x, 0), hidden = e.dim(x, 1);
    Value numExperts = e.dim(w, 0);
    Type elem = op.getType().getElementType();
    Value z = e.alloc(elem, {numTokens, numExperts});
    e.loop(e.idx(0), numTokens, [&](Value t) {
      e.loop(e.idx(0), numExperts, [&](Value ex) {
        Value acc = e.loop(e.idx(0), hidden, ValueRange{e.f32(0.0)},
                           [&](Value h, ValueRange sum) -> SmallVector<Value> {
                             Value prod = e.mul(e.toF32(e.load(x, {t, h})),
                                                e.toF32(e.load(w, {ex, h})));
                             return {e.add(sum[0], prod)};
                           })[0];
        if (elem != acc.getType())
          acc = arith::TruncFOp::create(b, elem, acc);
        e.store(acc, z, {t, ex});
      });
    });
    rewriter.replaceOp(op, e.toTensor(z, op.getType()));
    return success();
  }
};

/// sigmoid: 1 / (1 + exp(-z)) in f32; softmax: exp(z - max) / Σ exp(z - max)
/// in f64, rounded once to f32.
struct ScoreToLoops : OpConversionPattern<ScoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value z = e.toBuffer(adaptor.getLogits());
    Value numTokens = e.dim(z, 0), numExperts = e.dim(z, 1);
    Value s = e.alloc(b.getF32Type(), {numTokens, numExperts});
    Value zero = e.idx(0), one = e.f32(1.0);
    e.loop(zero, numTokens, [&](Value t) {
      if (op.getFunc() == ScoreFunc::sigmoid) {
        e.loop(zero, numExperts, [&](Value i) {
          Value v = e.toF32(e.load(z, {t, i}));
          Value negExp = e.exp(arith::NegFOp::create(b, v));
          e.store(e.div(one, e.add(one, negExp)), s, {t, i});
        });
        return;
      }
      Value max =
          e.loop(zero, numExperts,
                 ValueRange{e.f32(-std::numeric_limits<float>::infinity())},
                 [&](Value i, ValueRange m) -> SmallVector<Value> {
                   Value v = e.toF32(e.load(z, {t, i}));
                   return {arith::MaximumFOp::create(b, m[0], v)};
                 })[0];
      // exp(z - max), its sum and the division are evaluated in f64 and
      // rounded once, so each probability is accurate to half an ulp even
      // far below the maximum (an f32 exponent argument alone would cost
      // ~1e-6 relative there).
      Value max64 = e.toF64(max);
      Value sum = e.loop(zero, numExperts, ValueRange{e.f64(0.0)},
                         [&](Value i, ValueRange acc) -> SmallVector<Value> {
                           Value v = e.toF64(e.toF32(e.load(z, {t, i})));
                           Value p = e.exp(e.sub(v, max64));
                           return {e.add(acc[0], p)};
                         })[0];
      e.loop(zero, numExperts, [&](Value i) {
        Value v = e.toF64(e.toF32(e.load(z, {t, i})));
        Value p = e.div(e.exp(e.sub(v, max64)), sum);
        e.store(arith::TruncFOp::create(b, b.getF32Type(), p), s, {t, i});
      });
    });
    rewriter.replaceOp(op, e.toTensor(s, op.getType()));
    return success();
  }
};

/// Group-limited top-k, exactly as the op description states: selection on
/// s + bias, groups outside the chosen ones never eligible, routing order
/// (larger first, NaN last, lower index on ties), weights from raw s.
struct RouteToLoops : OpConversionPattern<RouteOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RouteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Type f32 = b.getF32Type(), i1 = b.getI1Type();
    int64_t numExperts = op.getNumExperts(), k = op.getK();
    int64_t groups = op.getGroups(), groupTopk = op.getGroupTopk();
    int64_t perGroup = numExperts / groups;
    int64_t groupSum = op.getGroupScore().getCount();
    bool useMax = op.getGroupScore().getKind() == GroupScoreKind::max;

    Value s = e.toBuffer(adaptor.getScores());
    Value bias = adaptor.getBias() ? e.toBuffer(adaptor.getBias()) : Value();
    Value zero = e.idx(0), numTokens = e.dim(s, 0);
    Value cE = e.idx(numExperts), cK = e.idx(k), cG = e.idx(groups);
    Value cPer = e.idx(perGroup);
    Value ids = e.alloc(b.getI32Type(), {numTokens, cK});
    Value weights = e.alloc(f32, {numTokens, cK});
    // Per-token scratch: selection scores, eligibility, already chosen.
    Value sel = e.alloc(f32, {cE});
    Value eligible = e.alloc(i1, {cE});
    Value taken = e.alloc(i1, {cE});
    Value groupScore, groupTaken;
    if (groups > 1) {
      groupScore = e.alloc(f32, {cG});
      groupTaken = e.alloc(i1, {cG});
    }
    Value yes = e.boolean(true), no = e.boolean(false);
    auto loadSel = [&](Value i) { return e.load(sel, {i}); };
    auto notTaken = [&](Value i) { return e.noti(e.load(taken, {i})); };

    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, cE, [&](Value i) {
        Value v = e.load(s, {t, i});
        if (bias)
          v = e.add(v, e.load(bias, {i}));
        e.store(v, sel, {i});
        e.store(no, taken, {i});
        e.store(e.boolean(groups == 1), eligible, {i});
      });

      if (groups > 1) {
        e.loop(zero, cG, [&](Value g) {
          Value lo = e.mul(g, cPer), hi = e.add(lo, cPer);
          Value score;
          if (useMax) {
            score = e.argBest(
                         lo, hi, [&](Value) { return yes; }, loadSel)
                        .second;
          } else {
            // Sum of the n best, added in rank order.
            score = e.loop(zero, e.idx(groupSum), ValueRange{e.f32(0.0)},
                           [&](Value, ValueRange acc) -> SmallVector<Value> {
                             auto [best, value] =
                                 e.argBest(lo, hi, notTaken, loadSel);
                             e.store(yes, taken, {best});
                             return {e.add(acc[0], value)};
                           })[0];
            e.loop(lo, hi, [&](Value i) { e.store(no, taken, {i}); });
          }
          e.store(score, groupScore, {g});
          e.store(no, groupTaken, {g});
        });
        e.loop(zero, e.idx(groupTopk), [&](Value) {
          Value best =
              e.argBest(
                   zero, cG,
                   [&](Value g) { return e.noti(e.load(groupTaken, {g})); },
                   [&](Value g) { return e.load(groupScore, {g}); })
                  .first;
          e.store(yes, groupTaken, {best});
          Value lo = e.mul(best, cPer);
          e.loop(lo, e.add(lo, cPer),
                 [&](Value i) { e.store(yes, eligible, {i}); });
        });
      }

      Value sum =
          e.loop(zero, cK, ValueRange{e.f32(0.0)},
                 [&](Value slot, ValueRange acc) -> SmallVector<Value> {
                   Value best =
                       e.argBest(
                            zero, cE,
                            [&](Value i) {
                              return e.andi(e.load(eligible, {i}), notTaken(i));
                            },
                            loadSel)
                           .first;
                   e.store(yes, taken, {best});
                   Value raw = e.load(s, {t, best});
                   e.store(e.indexToI32(best), ids, {t, slot});
                   e.store(raw, weights, {t, slot});
                   return {e.add(acc[0], raw)};
                 })[0];

      Value denom = op.getNormalize() ? e.add(sum, e.f32(1e-20)) : Value();
      float scale = op.getScale().convertToFloat();
      if (denom || scale != 1.0f) {
        e.loop(zero, cK, [&](Value slot) {
          Value w = e.load(weights, {t, slot});
          if (denom)
            w = e.div(w, denom);
          if (scale != 1.0f)
            w = e.mul(w, e.f32(scale));
          e.store(w, weights, {t, slot});
        });
      }
    });
    rewriter.replaceOp(op, {e.toTensor(ids, op.getIds().getType()),
                            e.toTensor(weights, op.getWeights().getType())});
    return success();
  }
};

struct ExpertCountsToLoops : OpConversionPattern<ExpertCountsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpertCountsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value ids = e.toBuffer(adaptor.getIds());
    int64_t numExperts = op.getCounts().getType().getDimSize(0);
    Value counts = e.alloc(b.getI32Type(), {e.idx(numExperts)});
    e.fill(counts, e.i32(0));
    Value zero = e.idx(0);
    e.loop(zero, e.dim(ids, 0), [&](Value t) {
      e.loop(zero, e.dim(ids, 1), [&](Value slot) {
        Value id = e.load(ids, {t, slot});
        Value valid =
            e.andi(e.cmpi(arith::CmpIPredicate::sge, id, e.i32(0)),
                   e.cmpi(arith::CmpIPredicate::slt, id, e.i32(numExperts)));
        e.ifThen(valid, [&] {
          Value i = e.i32ToIndex(id);
          e.store(e.add(e.load(counts, {i}), e.i32(1)), counts, {i});
        });
      });
    });
    rewriter.replaceOp(op, e.toTensor(counts, op.getType()));
    return success();
  }
};

} // namespace

void mlir::moe::loops::populateRoutingPatterns(RewritePatternSet &patterns) {
  patterns.add<GateToLoops, ScoreToLoops, RouteToLoops, ExpertCountsToLoops>(
      patterns.getContext());
}
