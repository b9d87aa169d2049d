//===- ExpertsToLoops.cpp - grouped SwiGLU FFN as loops -------------------===//

#include "FP8.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"
#include "moe/Dialect/Moe/IR/MoeVerification.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// body(ex, r) for each expert ex and each row r in [offsets[ex],
/// offsets[ex+1]), the offsets clamped to [0, rows] so that malformed ones
/// cannot reach out of bounds; without offsets one expert owns every row.
void forEachExpertRow(LoopEmitter &e, Value offsets, int64_t numExperts,
                      Value numRows, function_ref<void(Value, Value)> body) {
  ImplicitLocOpBuilder &b = e.builder();
  Value zero = e.idx(0);
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
    e.loop(lo, hi, [&](Value r) { body(ex, r); });
  });
}

/// For each expert e and row r in [offsets[e], offsets[e+1]):
/// h = round(silu(x·Wgᵀ) · (x·Wuᵀ)), y = round(h·Wdᵀ), silu(g) = g/(1+e^-g).
/// Offsets are clamped to [0, rows] so malformed offsets cannot write out of
/// bounds; rows owned by no expert are zero.
struct ExpertFFNToLoops : OpConversionPattern<ExpertFFNOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpertFFNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.isFP8())
      return lowerFP8(op, adaptor, rewriter);
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
    forEachExpertRow(e, offsets, numExperts, numRows, [&](Value ex, Value r) {
      auto xr = [&](Value h) { return e.toF32(e.load(x, {r, h})); };
      e.loop(zero, cI, [&](Value i) {
        Value g = dot(r, gateUp, ex, i, hidden, xr);
        Value u = dot(r, gateUp, ex, e.add(i, cI), hidden, xr);
        Value silu = e.div(g, e.add(one, e.exp(arith::NegFOp::create(b, g))));
        Value h = e.toF32(e.fromF32(e.mul(silu, u), elementType));
        e.store(h, act, {i});
      });
      e.loop(zero, hidden, [&](Value h) {
        Value y =
            dot(r, down, ex, h, cI, [&](Value i) { return e.load(act, {i}); });
        e.store(e.fromF32(y, elementType), out, {r, h});
      });
    });
    rewriter.replaceOp(op, e.toTensor(out, op.getType()));
    return success();
  }

  /// The block-scaled FP8 FFN. Each projection, for output column n and
  /// each 128-wide K block b: the exact block sum of decoded products (in
  /// f64, where 128 e4m3 products add up exactly), rounded once to f32,
  /// times the row's scale, times the weight block's scale, added to an f32
  /// accumulator. h = round(silu(g)·u) to the result type, then quantised
  /// per 128 like moe.quantize.
  static LogicalResult lowerFP8(ExpertFFNOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    Type elementType = op.getType().getElementType();
    Value x = e.toBuffer(adaptor.getRows());
    Value xScales = e.toBuffer(adaptor.getRowScales());
    Value gateUp = e.toBuffer(adaptor.getGateUp());
    Value gateUpScales = e.toBuffer(adaptor.getGateUpScales());
    Value down = e.toBuffer(adaptor.getDown());
    Value downScales = e.toBuffer(adaptor.getDownScales());
    Value offsets =
        adaptor.getOffsets() ? e.toBuffer(adaptor.getOffsets()) : Value();
    int64_t numExperts = op.getGateUp().getType().getDimSize(0);
    int64_t width = op.getDown().getType().getDimSize(2);
    int64_t hiddenSize = op.getGateUp().getType().getDimSize(2);
    Value zero = e.idx(0), one = e.f32(1.0), block = e.idx(kFP8Block);
    Value numRows = e.dim(x, 0), hidden = e.idx(hiddenSize);
    Value cI = e.idx(width);
    Value out = e.alloc(elementType, {numRows, hidden});
    e.fill(out, arith::ConstantOp::create(b, b.getZeroAttr(elementType)));
    Value act = e.alloc(b.getF32Type(), {cI});  // h, rounded
    Value actQ = e.alloc(b.getF32Type(), {cI}); // h's e4m3 values
    Value actScales = e.alloc(b.getF32Type(), {e.idx(width / kFP8Block)});

    auto decode = [&](Value mem, ValueRange indices) {
      Value bits =
          arith::BitcastOp::create(b, b.getI8Type(), e.load(mem, indices));
      return decodeE4M3FN(e, bits);
    };
    // Σ_b f32(Σ_{k∈b} lhs(k)·w[ex,n,k]) · lhsScale(b) · wScales[ex,n/128,b].
    auto dot = [&](Value wMem, Value wScales, Value ex, Value n, Value len,
                   function_ref<Value(Value)> lhs,
                   function_ref<Value(Value)> lhsScale) {
      Value nBlock = arith::DivUIOp::create(b, n, block);
      Value numBlocks = e.idx(*getConstantIntValue(len) / kFP8Block);
      return e.loop(
          zero, numBlocks, ValueRange{e.f32(0.0)},
          [&](Value kb, ValueRange acc) -> SmallVector<Value> {
            Value base = e.mul(kb, block);
            Value sum =
                e.loop(zero, block, ValueRange{e.f64(0.0)},
                       [&](Value j, ValueRange s) -> SmallVector<Value> {
                         Value k = e.add(base, j);
                         Value prod = e.mul(e.toF64(lhs(k)),
                                            e.toF64(decode(wMem, {ex, n, k})));
                         return {e.add(s[0], prod)};
                       })[0];
            Value blockSum = arith::TruncFOp::create(b, b.getF32Type(), sum);
            Value scaled = e.mul(e.mul(blockSum, lhsScale(kb)),
                                 e.load(wScales, {ex, nBlock, kb}));
            return {e.add(acc[0], scaled)};
          })[0];
    };
    forEachExpertRow(e, offsets, numExperts, numRows, [&](Value ex, Value r) {
      auto xr = [&](Value k) { return decode(x, {r, k}); };
      auto xs = [&](Value kb) { return e.load(xScales, {r, kb}); };
      e.loop(zero, cI, [&](Value i) {
        Value g = dot(gateUp, gateUpScales, ex, i, hidden, xr, xs);
        Value u = dot(gateUp, gateUpScales, ex, e.add(i, cI), hidden, xr, xs);
        Value silu = e.div(g, e.add(one, e.exp(arith::NegFOp::create(b, g))));
        e.store(e.toF32(e.fromF32(e.mul(silu, u), elementType)), act, {i});
      });
      e.loop(zero, e.idx(width / kFP8Block), [&](Value kb) {
        Value base = e.mul(kb, block);
        Value s = quantizeGroup(
            e, block, [&](Value j) { return e.load(act, {e.add(base, j)}); },
            [&](Value j, Value bits) {
              e.store(decodeE4M3FN(e, bits), actQ, {e.add(base, j)});
            },
            op.getUe8m0());
        e.store(s, actScales, {kb});
      });
      e.loop(zero, hidden, [&](Value h) {
        Value y = dot(
            down, downScales, ex, h, cI,
            [&](Value k) { return e.load(actQ, {k}); },
            [&](Value kb) { return e.load(actScales, {kb}); });
        e.store(e.fromF32(y, elementType), out, {r, h});
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
