//===- BalanceToLoops.cpp - balance losses, gradients, bias update --------===//
//
// All four losses share one shape: per sequence of L tokens,
//   L_b = α Σ_i g_i P_i,   P_i = (1/L) Σ_t q_{i,t},
// with q = s / Σ_j s (sequence) or q = s (expert, device, comm), and g the
// per-expert weight of the kind: f_i (sequence, expert), the device mean
// f'_{d(i)} (device) or f''_{d(i)} (comm). The loss is the mean over
// sequences; statistics and sums are accumulated in f64.
//
//===----------------------------------------------------------------------===//

#include "LoopEmitter.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// Loop structure and per-sequence statistics shared by the loss and its
/// gradient.
class LossEmitter {
public:
  LossEmitter(LoopEmitter &e, BalanceLossAttr config, Value scores, Value ids,
              int64_t numExperts)
      : e(e), b(e.builder()), config(config), s(scores), ids(ids),
        numExperts(numExperts) {
    Type f64 = b.getF64Type(), i32 = b.getI32Type(), i1 = b.getI1Type();
    zero = e.idx(0);
    cE = e.idx(numExperts);
    numTokens = e.dim(s, 0);
    k = e.dim(ids, 1);
    if (int64_t len = config.getSeqLen()) {
      seqLen = e.idx(len);
      // A dynamic token count must still be whole sequences (the
      // verifier checks a static one); the tail of a partial one is left
      // out and the failure recorded.
      if (!getConstantIntValue(numTokens)) {
        Value whole = e.cmpi(arith::CmpIPredicate::eq,
                             e.rem(numTokens, this->seqLen), zero);
        e.reportUnless(whole, RuntimeError::PartialSequence, e.i64(len));
      }
    } else {
      seqLen = numTokens;
    }
    // No tokens: no sequences (and no division by zero).
    Value safeLen = arith::MaxSIOp::create(b, seqLen, e.idx(1));
    numSeqs = e.div(numTokens, safeLen);
    counts = e.alloc(i32, {cE});
    weight = e.alloc(f64, {cE});
    taken = e.alloc(i1, {cE});
    if (int64_t d = config.getDevices()) {
      this->devices = d;
      deviceHit = e.alloc(i1, {e.idx(d)});
      deviceTokens = e.alloc(i32, {e.idx(d)});
    }
  }

  bool normalizesScores() const {
    return config.getKind() == LossKind::sequence;
  }

  /// Σ_j s[t, j] in f64.
  Value rowSum(Value t) {
    return e.loop(zero, cE, ValueRange{e.f64(0.0)},
                  [&](Value j, ValueRange acc) -> SmallVector<Value> {
                    return {e.add(acc[0], e.toF64(e.load(s, {t, j})))};
                  })[0];
  }

  /// Fills `weight` (g_i) for the sequence starting at token `start`.
  void computeWeights(Value start) {
    Value yes = e.boolean(true), no = e.boolean(false);
    Value end = e.add(start, seqLen);
    e.fill(counts, e.i32(0));
    if (deviceTokens)
      e.fill(deviceTokens, e.i32(0));
    Value expertsPerDevice = devices ? e.idx(numExperts / devices) : Value();
    auto count = [&](Value ex) {
      e.store(e.add(e.load(counts, {ex}), e.i32(1)), counts, {ex});
      if (deviceHit)
        e.store(yes, deviceHit, {e.div(ex, expertsPerDevice)});
    };
    e.loop(start, end, [&](Value t) {
      if (deviceHit)
        e.fill(deviceHit, no);
      if (config.getCounts() == CountSource::selected) {
        e.loop(zero, k, [&](Value slot) {
          Value id = e.load(ids, {t, slot});
          Value valid =
              e.andi(e.cmpi(arith::CmpIPredicate::sge, id, e.i32(0)),
                     e.cmpi(arith::CmpIPredicate::slt, id, e.i32(numExperts)));
          e.ifThen(valid, [&] { count(e.i32ToIndex(id)); });
        });
      } else {
        // The plain top-K of the unbiased scores, no group limit.
        e.fill(taken, no);
        e.loop(zero, k, [&](Value) {
          Value best = e.argBest(
                            zero, cE,
                            [&](Value i) { return e.noti(e.load(taken, {i})); },
                            [&](Value i) {
                              return e.load(s, {t, i});
                            })
                           .first;
          e.store(yes, taken, {best});
          count(best);
        });
      }
      if (deviceHit) {
        e.loop(zero, e.idx(devices), [&](Value d) {
          e.ifThen(e.load(deviceHit, {d}), [&] {
            e.store(e.add(e.load(deviceTokens, {d}), e.i32(1)), deviceTokens,
                    {d});
          });
        });
      }
    });

    // f_i = E / (K·L) · c_i
    Value kl = e.mul(e.indexToF64(k), e.indexToF64(seqLen));
    Value coef = e.div(e.f64(numExperts), kl);
    e.loop(zero, cE, [&](Value i) {
      Value c = e.toF64(e.load(counts, {i}));
      e.store(e.mul(coef, c), weight, {i});
    });
    if (config.getKind() == LossKind::device) {
      // g_i = mean of f over the device of i.
      Value per = e.idx(numExperts / devices);
      e.loop(zero, e.idx(devices), [&](Value d) {
        Value lo = e.mul(d, per), hi = e.add(lo, per);
        Value sum = e.loop(lo, hi, ValueRange{e.f64(0.0)},
                           [&](Value i, ValueRange acc) -> SmallVector<Value> {
                             return {e.add(acc[0], e.load(weight, {i}))};
                           })[0];
        Value mean = e.div(sum, e.f64(numExperts / devices));
        e.loop(lo, hi, [&](Value i) { e.store(mean, weight, {i}); });
      });
    } else if (config.getKind() == LossKind::comm) {
      // g_i = D / (M·L) · tokens sent to the device of i.
      Value per = e.idx(numExperts / devices);
      Value ml = e.mul(e.f64(config.getDeviceLimit()), e.indexToF64(seqLen));
      Value dcoef = e.div(e.f64(devices), ml);
      e.loop(zero, e.idx(devices), [&](Value d) {
        Value f = e.mul(dcoef, e.toF64(e.load(deviceTokens, {d})));
        Value lo = e.mul(d, per);
        e.loop(lo, e.add(lo, per), [&](Value i) { e.store(f, weight, {i}); });
      });
    }
  }

  LoopEmitter &e;
  ImplicitLocOpBuilder &b;
  BalanceLossAttr config;
  Value s, ids;
  int64_t numExperts;
  int64_t devices = 0;
  Value zero, cE, numTokens, k, seqLen, numSeqs;
  Value counts, weight, taken, deviceHit, deviceTokens;
};

struct BalanceLossToLoops : OpConversionPattern<BalanceLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BalanceLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    BalanceLossAttr config = op.getConfig();
    int64_t numExperts = op.getScores().getType().getDimSize(1);
    LossEmitter le(e, config, e.toBuffer(adaptor.getScores()),
                   e.toBuffer(adaptor.getIds()), numExperts);
    Value zero = le.zero;
    Value pSum = e.alloc(b.getF64Type(), {le.cE});
    Value alpha = e.f64(config.getAlpha().convertToFloat());

    Value total = e.loop(
        zero, le.numSeqs, ValueRange{e.f64(0.0)},
        [&](Value seq, ValueRange acc) -> SmallVector<Value> {
          Value start = e.mul(seq, le.seqLen);
          le.computeWeights(start);
          e.fill(pSum, e.f64(0.0));
          e.loop(start, e.add(start, le.seqLen), [&](Value t) {
            Value inv = le.normalizesScores() ? e.div(e.f64(1.0), le.rowSum(t))
                                              : Value();
            e.loop(zero, le.cE, [&](Value i) {
              Value q = e.toF64(e.load(le.s, {t, i}));
              if (inv)
                q = e.mul(q, inv);
              e.store(e.add(e.load(pSum, {i}), q), pSum, {i});
            });
          });
          Value dot = e.loop(zero, le.cE, ValueRange{e.f64(0.0)},
                             [&](Value i, ValueRange d) -> SmallVector<Value> {
                               Value gp = e.mul(e.load(le.weight, {i}),
                                                e.load(pSum, {i}));
                               return {e.add(d[0], gp)};
                             })[0];
          Value seqLoss = e.div(e.mul(alpha, dot), e.indexToF64(le.seqLen));
          return {e.add(acc[0], seqLoss)};
        })[0];
    Value numSeqs = arith::MaxSIOp::create(b, le.numSeqs, e.idx(1));
    Value loss = arith::TruncFOp::create(b, b.getF32Type(),
                                         e.div(total, e.indexToF64(numSeqs)));
    Value out = memref::AllocOp::create(b, MemRefType::get({}, b.getF32Type()),
                                        ValueRange{});
    e.store(loss, out, {});
    rewriter.replaceOp(op, e.toTensor(out, op.getType()));
    return success();
  }
};

/// ∂(mean_b L_b)/∂z with g constant: ∂/∂q_{i,t} = α g_i / (L·B), then through
/// the normalisation (sequence kind) and the score function.
struct BalanceLossGradToLoops : OpConversionPattern<BalanceLossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BalanceLossGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    BalanceLossAttr config = op.getConfig();
    int64_t numExperts = op.getScores().getType().getDimSize(1);
    LossEmitter le(e, config, e.toBuffer(adaptor.getScores()),
                   e.toBuffer(adaptor.getIds()), numExperts);
    Value zero = le.zero, cE = le.cE, s = le.s;
    Value grad = e.alloc(b.getF32Type(), {le.numTokens, cE});
    e.fill(grad, e.f32(0.0));
    Value ds = e.alloc(b.getF64Type(), {cE});
    Value alpha = e.f64(config.getAlpha().convertToFloat());
    Value numSeqs = arith::MaxSIOp::create(b, le.numSeqs, e.idx(1));
    Value scale =
        e.div(alpha, e.mul(e.indexToF64(le.seqLen), e.indexToF64(numSeqs)));
    bool sigmoid = op.getFunc() == ScoreFunc::sigmoid;

    e.loop(zero, le.numSeqs, [&](Value seq) {
      Value start = e.mul(seq, le.seqLen);
      le.computeWeights(start);
      e.loop(start, e.add(start, le.seqLen), [&](Value t) {
        auto sv = [&](Value i) { return e.toF64(e.load(s, {t, i})); };
        // ∂L/∂s_i.
        if (le.normalizesScores()) {
          Value sum = le.rowSum(t);
          Value gq = e.loop(zero, cE, ValueRange{e.f64(0.0)},
                            [&](Value i, ValueRange acc) -> SmallVector<Value> {
                              Value term = e.mul(e.load(le.weight, {i}), sv(i));
                              return {e.add(acc[0], term)};
                            })[0];
          gq = e.div(gq, sum);
          e.loop(zero, cE, [&](Value i) {
            Value d = e.sub(e.load(le.weight, {i}), gq);
            e.store(e.div(e.mul(scale, d), sum), ds, {i});
          });
        } else {
          e.loop(zero, cE, [&](Value i) {
            e.store(e.mul(scale, e.load(le.weight, {i})), ds, {i});
          });
        }
        // Through the score function.
        Value dot;
        if (!sigmoid)
          dot = e.loop(zero, cE, ValueRange{e.f64(0.0)},
                       [&](Value i, ValueRange acc) -> SmallVector<Value> {
                         return {e.add(acc[0], e.mul(sv(i), e.load(ds, {i})))};
                       })[0];
        e.loop(zero, cE, [&](Value i) {
          Value si = sv(i), d = e.load(ds, {i});
          Value g = sigmoid ? e.mul(d, e.mul(si, e.sub(e.f64(1.0), si)))
                            : e.mul(si, e.sub(d, dot));
          e.store(arith::TruncFOp::create(b, b.getF32Type(), g), grad, {t, i});
        });
      });
    });
    rewriter.replaceOp(op, e.toTensor(grad, op.getType()));
    return success();
  }
};

/// b_i + rate · sign(Σ_j c_j − E·c_i), compared exactly in i64.
struct BiasUpdateToLoops : OpConversionPattern<BiasUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BiasUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value bias = e.toBuffer(adaptor.getBias());
    Value counts = e.toBuffer(adaptor.getCounts());
    int64_t numExperts = op.getBias().getType().getDimSize(0);
    Value zero = e.idx(0), cE = e.idx(numExperts);
    auto count64 = [&](Value i) {
      return arith::ExtSIOp::create(b, b.getI64Type(), e.load(counts, {i}));
    };
    Value total = e.loop(zero, cE, ValueRange{e.i64(0)},
                         [&](Value i, ValueRange acc) -> SmallVector<Value> {
                           return {e.add(acc[0], count64(i))};
                         })[0];
    Value rate = e.f32(op.getRate().convertToFloat());
    Value out = e.alloc(b.getF32Type(), {cE});
    e.loop(zero, cE, [&](Value i) {
      Value diff = e.sub(total, e.mul(e.i64(numExperts), count64(i)));
      Value v = e.load(bias, {i});
      Value up = e.add(v, rate), downV = e.sub(v, rate);
      Value under = e.cmpi(arith::CmpIPredicate::sgt, diff, e.i64(0));
      Value over = e.cmpi(arith::CmpIPredicate::slt, diff, e.i64(0));
      e.store(e.select(under, up, e.select(over, downV, v)), out, {i});
    });
    rewriter.replaceOp(op, e.toTensor(out, op.getType()));
    return success();
  }
};

} // namespace

void mlir::moe::loops::populateBalancePatterns(RewritePatternSet &patterns) {
  patterns.add<BalanceLossToLoops, BalanceLossGradToLoops, BiasUpdateToLoops>(
      patterns.getContext());
}
