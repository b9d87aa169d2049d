//===- DispatchToLoops.cpp - dispatch layout, permute, combine as loops ---===//

#include "LoopEmitter.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

/// 0 <= id < numExperts, for an i32 id.
static Value isValidExpert(LoopEmitter &e, Value id, int64_t numExperts) {
  return e.andi(e.cmpi(arith::CmpIPredicate::sge, id, e.i32(0)),
                e.cmpi(arith::CmpIPredicate::slt, id, e.i32(numExperts)));
}

static void increment(LoopEmitter &e, Value mem, Value i) {
  e.store(e.add(e.load(mem, {i}), e.i32(1)), mem, {i});
}

namespace {

struct DispatchLayoutToLoops : OpConversionPattern<DispatchLayoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DispatchLayoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    TopologyAttr topo = op.getTopology();
    int64_t numExperts = topo.getNumExperts(), numRanks = topo.getNumRanks();
    Type i32 = b.getI32Type(), i1 = b.getI1Type();
    Value ids = e.toBuffer(adaptor.getIds());
    Value zero = e.idx(0), numTokens = e.dim(ids, 0), k = e.dim(ids, 1);
    Value cR = e.idx(numRanks), cN = e.idx(topo.getNodes());
    Value perExpert = e.alloc(i32, {e.idx(numExperts)});
    Value perRank = e.alloc(i32, {cR});
    Value perNode = e.alloc(i32, {cN});
    Value inRank = e.alloc(i1, {numTokens, cR});
    Value nodeHit = e.alloc(i1, {cN});
    for (Value mem : {perExpert, perRank, perNode})
      e.fill(mem, e.i32(0));
    Value yes = e.boolean(true), no = e.boolean(false);
    Value expertsPerGpu = e.idx(topo.getExpertsPerGpu());
    Value gpusPerNode = e.idx(topo.getGpusPerNode());

    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, cR, [&](Value r) { e.store(no, inRank, {t, r}); });
      e.loop(zero, cN, [&](Value n) { e.store(no, nodeHit, {n}); });
      e.loop(zero, k, [&](Value slot) {
        Value id = e.load(ids, {t, slot});
        e.ifThen(isValidExpert(e, id, numExperts), [&] {
          Value ex = e.i32ToIndex(id);
          increment(e, perExpert, ex);
          e.store(yes, inRank, {t, e.div(ex, expertsPerGpu)});
        });
      });
      // A token counts once per rank and once per node.
      e.loop(zero, cR, [&](Value r) {
        e.ifThen(e.load(inRank, {t, r}), [&] {
          increment(e, perRank, r);
          e.store(yes, nodeHit, {e.div(r, gpusPerNode)});
        });
      });
      e.loop(zero, cN, [&](Value n) {
        e.ifThen(e.load(nodeHit, {n}), [&] { increment(e, perNode, n); });
      });
    });
    rewriter.replaceOp(
        op, {e.toTensor(perExpert, op.getTokensPerExpert().getType()),
             e.toTensor(perRank, op.getTokensPerRank().getType()),
             e.toTensor(perNode, op.getTokensPerNode().getType()),
             e.toTensor(inRank, op.getIsTokenInRank().getType())});
    return success();
  }
};

/// Expert-major, stable by (token, slot); capacity per expert with the
/// `probs` (largest weights, earlier assignment on ties) or `position`
/// (earliest assignments) policy.
struct PermuteToLoops : OpConversionPattern<PermuteOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PermuteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Type i32 = b.getI32Type(), i1 = b.getI1Type();
    int64_t numExperts = op.getNumExperts();
    Value x = e.toBuffer(adaptor.getInput());
    Value ids = e.toBuffer(adaptor.getIds());
    Value w = e.toBuffer(adaptor.getWeights());
    Value zero = e.idx(0), one = e.idx(1);
    Value numTokens = e.dim(ids, 0), k = e.dim(ids, 1), hidden = e.dim(x, 1);
    Value cE = e.idx(numExperts);
    Value numRows = e.mul(numTokens, k);
    Type elementType = cast<MemRefType>(x.getType()).getElementType();
    Value rows = e.alloc(elementType, {numRows, hidden});
    // e4m3 rows carry their group scales along.
    Value scales =
        adaptor.getScales() ? e.toBuffer(adaptor.getScales()) : Value();
    Value rowScales, numGroups;
    if (scales) {
      numGroups = e.dim(scales, 1);
      rowScales = e.alloc(b.getF32Type(), {numRows, numGroups});
      e.fill(rowScales, e.f32(0.0));
    }
    Value rowMap = e.alloc(i32, {numTokens, k});
    Value offsets = e.alloc(i32, {e.idx(numExperts + 1)});
    Value keep = e.alloc(i1, {numTokens, k});
    Value seen = e.alloc(i32, {cE});
    e.fill(seen, e.i32(0));

    // capacity = ceil(T·K/E · cf) in f64; without a factor nothing drops.
    Value capacity;
    if (std::optional<APFloat> cf = op.getCapacityFactor()) {
      Value perExpert = e.div(e.indexToF64(numRows), e.f64(numExperts));
      Value c = math::CeilOp::create(
          b, e.mul(perExpert, e.f64(cf->convertToDouble())));
      capacity = arith::FPToSIOp::create(b, b.getI32Type(), c);
    }
    bool byProbs = op.getDropPolicy() == DropPolicy::probs;

    // Raw assignment counts (for the probs policy's shortcut) and keep flags.
    Value rawCount;
    if (capacity && byProbs) {
      rawCount = e.alloc(i32, {cE});
      e.fill(rawCount, e.i32(0));
      e.loop(zero, numTokens, [&](Value t) {
        e.loop(zero, k, [&](Value slot) {
          Value id = e.load(ids, {t, slot});
          e.ifThen(isValidExpert(e, id, numExperts),
                   [&] { increment(e, rawCount, e.i32ToIndex(id)); });
        });
      });
    }
    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, k, [&](Value slot) {
        Value id = e.load(ids, {t, slot});
        Value valid = isValidExpert(e, id, numExperts);
        e.store(valid, keep, {t, slot});
        e.ifThen(valid, [&] {
          Value ex = e.i32ToIndex(id);
          if (capacity && !byProbs) {
            Value pos = e.load(seen, {ex});
            e.store(e.cmpi(arith::CmpIPredicate::slt, pos, capacity), keep,
                    {t, slot});
          } else if (capacity) {
            // Rank among the same expert's assignments by weight; only
            // needed when the expert is over capacity.
            Value over = e.cmpi(arith::CmpIPredicate::sgt,
                                e.load(rawCount, {ex}), capacity);
            e.ifThen(over, [&] {
              Value mine = e.load(w, {t, slot});
              Value rank = e.loop(
                  zero, numTokens, ValueRange{e.i32(0)},
                  [&](Value t2, ValueRange acc) -> SmallVector<Value> {
                    return e.loop(
                        zero, k, acc,
                        [&](Value s2, ValueRange acc2) -> SmallVector<Value> {
                          Value same = e.cmpi(arith::CmpIPredicate::eq,
                                              e.load(ids, {t2, s2}), id);
                          Value other = e.load(w, {t2, s2});
                          Value earlier = e.ori(
                              e.cmpi(arith::CmpIPredicate::ult, t2, t),
                              e.andi(
                                  e.cmpi(arith::CmpIPredicate::eq, t2, t),
                                  e.cmpi(arith::CmpIPredicate::ult, s2, slot)));
                          Value tie = e.andi(
                              e.cmpf(arith::CmpFPredicate::OEQ, other, mine),
                              earlier);
                          Value bothNaN = e.andi(e.isNaN(other), e.isNaN(mine));
                          Value better =
                              e.ori(e.ranksAbove(other, mine),
                                    e.andi(e.ori(tie, bothNaN), earlier));
                          Value inc = e.andi(same, better);
                          return {e.add(acc2[0],
                                        arith::ExtUIOp::create(b, i32, inc))};
                        });
                  })[0];
              e.store(e.cmpi(arith::CmpIPredicate::slt, rank, capacity), keep,
                      {t, slot});
            });
          }
          increment(e, seen, ex);
        });
      });
    });

    // Kept rows per expert, then exclusive prefix sums.
    Value kept = e.alloc(i32, {cE});
    e.fill(kept, e.i32(0));
    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, k, [&](Value slot) {
        e.ifThen(e.load(keep, {t, slot}), [&] {
          increment(e, kept, e.i32ToIndex(e.load(ids, {t, slot})));
        });
      });
    });
    e.store(e.i32(0), offsets, {zero});
    e.loop(zero, cE, [&](Value ex) {
      Value next = e.add(e.load(offsets, {ex}), e.load(kept, {ex}));
      e.store(next, offsets, {e.add(ex, one)});
    });

    // Place rows in token order; unused rows stay zero.
    // Zero of the element type; f8 has no CPU constants, so through i8.
    Value zeroElement =
        isa<Float8E4M3FNType>(elementType)
            ? Value(arith::BitcastOp::create(b, elementType, e.i8(0)))
            : Value(arith::ConstantOp::create(b, b.getZeroAttr(elementType)));
    e.fill(rows, zeroElement);
    e.fill(kept, e.i32(0));
    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, k, [&](Value slot) {
        SmallVector<Value> row = e.ifElse(
            e.load(keep, {t, slot}), {i32},
            [&]() -> SmallVector<Value> {
              Value ex = e.i32ToIndex(e.load(ids, {t, slot}));
              Value r = e.add(e.load(offsets, {ex}), e.load(kept, {ex}));
              increment(e, kept, ex);
              Value ri = e.i32ToIndex(r);
              e.loop(zero, hidden, [&](Value h) {
                e.store(e.load(x, {t, h}), rows, {ri, h});
              });
              if (scales)
                e.loop(zero, numGroups, [&](Value g) {
                  e.store(e.load(scales, {t, g}), rowScales, {ri, g});
                });
              return {r};
            },
            [&]() -> SmallVector<Value> { return {e.i32(-1)}; });
        e.store(row[0], rowMap, {t, slot});
      });
    });

    SmallVector<Value> results = {
        e.toTensor(rows, op.getRows().getType()),
        e.toTensor(rowMap, op.getRowMap().getType()),
        e.toTensor(offsets, op.getOffsets().getType())};
    if (scales)
      results.push_back(e.toTensor(rowScales, op.getRowScales().getType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// out[t] = round(Σ_k w[t,k] · rows[map[t,k]] + shared[t]) in f32.
struct CombineToLoops : OpConversionPattern<CombineOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CombineOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Value rows = e.toBuffer(adaptor.getExpertOut());
    Value map = e.toBuffer(adaptor.getRowMap());
    Value w = e.toBuffer(adaptor.getWeights());
    Value shared =
        adaptor.getShared() ? e.toBuffer(adaptor.getShared()) : Value();
    Type elementType = op.getType().getElementType();
    Value zero = e.idx(0);
    Value numTokens = e.dim(map, 0), k = e.dim(map, 1);
    Value numRows = e.indexToI32(e.dim(rows, 0)), hidden = e.dim(rows, 1);
    Value out = e.alloc(elementType, {numTokens, hidden});
    e.loop(zero, numTokens, [&](Value t) {
      e.loop(zero, hidden, [&](Value h) {
        Value acc = e.loop(
            zero, k, ValueRange{e.f32(0.0)},
            [&](Value slot, ValueRange sum) -> SmallVector<Value> {
              Value r = e.load(map, {t, slot});
              Value valid =
                  e.andi(e.cmpi(arith::CmpIPredicate::sge, r, e.i32(0)),
                         e.cmpi(arith::CmpIPredicate::slt, r, numRows));
              return e.ifElse(
                  valid, {b.getF32Type()},
                  [&]() -> SmallVector<Value> {
                    Value v = e.toF32(e.load(rows, {e.i32ToIndex(r), h}));
                    return {e.add(sum[0], e.mul(e.load(w, {t, slot}), v))};
                  },
                  [&]() -> SmallVector<Value> { return {sum[0]}; });
            })[0];
        if (shared)
          acc = e.add(acc, e.toF32(e.load(shared, {t, h})));
        e.store(e.fromF32(acc, elementType), out, {t, h});
      });
    });
    rewriter.replaceOp(op, e.toTensor(out, op.getType()));
    return success();
  }
};

} // namespace

void mlir::moe::loops::populateDispatchPatterns(RewritePatternSet &patterns) {
  patterns.add<DispatchLayoutToLoops, PermuteToLoops, CombineToLoops>(
      patterns.getContext());
}
