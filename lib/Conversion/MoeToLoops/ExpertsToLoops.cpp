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
/// h = round(silu(x·Wgᵀ) · (x·Wuᵀ)), y = round(h·Wdᵀ), silu(g) = g/(1+e^-g),
/// products and sums in f32; rows owned by no expert are zero.
/// FP8 (e4m3 rows and weights with scales): each projection, for output
/// column n and each 128-wide K block b, takes the exact block sum of
/// decoded products (in f64, where 128 e4m3 products add up exactly),
/// rounds it once to f32, multiplies by the row's scale, then by the weight
/// block's scale, and adds it to an f32 accumulator; h is quantised per 128
/// like moe.quantize before the down projection.
struct ExpertFFNToLoops : OpConversionPattern<ExpertFFNOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpertFFNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LoopEmitter e(b);
    bool fp8 = op.isFP8();
    auto buffer = [&](Value v) { return v ? e.toBuffer(v) : Value(); };
    Type elementType = op.getType().getElementType();
    Value x = e.toBuffer(adaptor.getRows());
    Value gateUp = e.toBuffer(adaptor.getGateUp());
    Value down = e.toBuffer(adaptor.getDown());
    Value offsets = buffer(adaptor.getOffsets());
    Value xScales = buffer(adaptor.getRowScales());
    Value gateUpScales = buffer(adaptor.getGateUpScales());
    Value downScales = buffer(adaptor.getDownScales());
    int64_t numExperts = op.getGateUp().getType().getDimSize(0);
    int64_t width = op.getDown().getType().getDimSize(2);
    Value zero = e.idx(0), one = e.f32(1.0), block = e.idx(kFP8Block);
    Value numRows = e.dim(x, 0), hidden = e.dim(x, 1);
    Value cI = e.idx(width);
    Value out = e.alloc(elementType, {numRows, hidden});
    e.fill(out, arith::ConstantOp::create(b, b.getZeroAttr(elementType)));
    Value act = e.alloc(b.getF32Type(), {cI}); // h, rounded
    // FP8: h's e4m3 values (decoded) and scales.
    Value actQ, actScales;
    if (fp8) {
      actQ = e.alloc(b.getF32Type(), {cI});
      actScales = e.alloc(b.getF32Type(), {e.idx(width / kFP8Block)});
    }

    // An element of rows or weights as f32 (e4m3 decoded exactly).
    auto value = [&](Value mem, ValueRange indices) {
      Value v = e.load(mem, indices);
      if (!fp8)
        return e.toF32(v);
      return decodeE4M3FN(e, arith::BitcastOp::create(b, b.getI8Type(), v));
    };
    // Row · weight row n of expert ex over `len`: a plain f32 sum, or FP8's
    // Σ_b f32(Σ_{k∈b} lhs(k)·w[ex,n,k]) · lhsScale(b) · wScales[ex,n/128,b].
    auto dot = [&](Value wMem, Value wScales, Value ex, Value n, Value len,
                   function_ref<Value(Value)> lhs,
                   function_ref<Value(Value)> lhsScale) {
      if (!fp8)
        return e.loop(zero, len, ValueRange{e.f32(0.0)},
                      [&](Value j, ValueRange acc) -> SmallVector<Value> {
                        Value prod = e.mul(lhs(j), value(wMem, {ex, n, j}));
                        return {e.add(acc[0], prod)};
                      })[0];
      Value nBlock = arith::DivUIOp::create(b, n, block);
      Value numBlocks = e.div(len, block);
      return e.loop(
          zero, numBlocks, ValueRange{e.f32(0.0)},
          [&](Value kb, ValueRange acc) -> SmallVector<Value> {
            Value base = e.mul(kb, block);
            Value sum =
                e.loop(zero, block, ValueRange{e.f64(0.0)},
                       [&](Value j, ValueRange s) -> SmallVector<Value> {
                         Value k = e.add(base, j);
                         Value prod = e.mul(e.toF64(lhs(k)),
                                            e.toF64(value(wMem, {ex, n, k})));
                         return {e.add(s[0], prod)};
                       })[0];
            Value blockSum = arith::TruncFOp::create(b, b.getF32Type(), sum);
            Value scaled = e.mul(e.mul(blockSum, lhsScale(kb)),
                                 e.load(wScales, {ex, nBlock, kb}));
            return {e.add(acc[0], scaled)};
          })[0];
    };

    forEachExpertRow(e, offsets, numExperts, numRows, [&](Value ex, Value r) {
      auto xr = [&](Value k) { return value(x, {r, k}); };
      auto xs = [&](Value kb) { return e.load(xScales, {r, kb}); };
      e.loop(zero, cI, [&](Value i) {
        Value g = dot(gateUp, gateUpScales, ex, i, hidden, xr, xs);
        Value u = dot(gateUp, gateUpScales, ex, e.add(i, cI), hidden, xr, xs);
        Value silu = e.div(g, e.add(one, e.exp(arith::NegFOp::create(b, g))));
        e.store(e.toF32(e.fromF32(e.mul(silu, u), elementType)), act, {i});
      });
      Value hValues = act;
      if (fp8) {
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
        hValues = actQ;
      }
      e.loop(zero, hidden, [&](Value h) {
        Value y = dot(
            down, downScales, ex, h, cI,
            [&](Value k) { return e.load(hValues, {k}); },
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
