//===- QuantizeToLoops.cpp - FP8 activation quantisation as loops ---------===//

#include "LoopEmitter.h"
#include "Patterns.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::loops;

namespace {

/// f32 -> e4m3fn bits (as i8), round to nearest even from the exact f32,
/// not saturating: |x| above 464 (the midpoint of 448 and the would-be 480),
/// inf and NaN become NaN (0x7F) with the input's sign. Integer arithmetic
/// throughout: the CPU has no f8 conversion.
Value encodeE4M3FN(LoopEmitter &e, Value x) {
  ImplicitLocOpBuilder &b = e.builder();
  auto i32 = [&](int64_t v) { return e.i32(v); };
  Value u = arith::BitcastOp::create(b, b.getI32Type(), x);
  Value sign = e.andi(arith::ShRUIOp::create(b, u, i32(24)), i32(0x80));
  Value a = e.andi(u, i32(0x7FFFFFFF));
  // Normals (|x| >= 2^-6): drop 20 mantissa bits, ties to even, and
  // rebias the exponent from 127 to 7; a carry moves to the next binade.
  Value lsb = e.andi(arith::ShRUIOp::create(b, a, i32(20)), i32(1));
  Value rounded = e.add(e.add(a, i32(0x7FFFF)), lsb);
  Value normal =
      e.sub(arith::ShRUIOp::create(b, rounded, i32(20)), i32(120 << 3));
  // Subnormals (|x| < 2^-6): multiples of 2^-9; scaling by 2^9 is exact and
  // adding then subtracting 2^23 rounds to an integer, ties to even.
  Value magnitude = arith::BitcastOp::create(b, b.getF32Type(), a);
  Value units = e.mul(magnitude, e.f32(512.0));
  Value magic = e.f32(8388608.0);
  Value whole = e.sub(e.add(units, magic), magic);
  Value subnormal = arith::FPToSIOp::create(b, b.getI32Type(), whole);
  Value code = e.select(e.cmpi(arith::CmpIPredicate::ult, a, i32(0x3C800000)),
                        subnormal, normal);
  Value tooLarge = e.cmpi(arith::CmpIPredicate::ugt, a, i32(0x43E80000));
  code = e.ori(e.select(tooLarge, i32(0x7F), code), sign);
  return arith::TruncIOp::create(b, b.getI8Type(), code);
}

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
        auto at = [&](Value i) {
          return e.toF32(e.load(x, {t, e.add(base, i)}));
        };
        Value amax = e.loop(zero, cG, ValueRange{e.f32(0.0)},
                            [&](Value i, ValueRange acc) -> SmallVector<Value> {
                              Value v = math::AbsFOp::create(b, at(i));
                              return {arith::MaximumFOp::create(b, acc[0], v)};
                            })[0];
        amax = arith::MaximumFOp::create(b, amax, e.f32(1e-4));
        Value s = e.div(amax, e.f32(448.0));
        if (op.getUe8m0()) {
          // A normal positive f32 with a nonzero mantissa goes up to the
          // next power of two; powers of two, inf and NaN stay.
          Value bits = arith::BitcastOp::create(b, b.getI32Type(), s);
          Value up = e.add(e.andi(bits, e.i32(0x7F800000)), e.i32(0x800000));
          Value exact = e.cmpi(arith::CmpIPredicate::eq,
                               e.andi(bits, e.i32(0x7FFFFF)), e.i32(0));
          Value special =
              e.cmpi(arith::CmpIPredicate::uge, bits, e.i32(0x7F800000));
          bits = e.select(e.ori(exact, special), bits, up);
          s = arith::BitcastOp::create(b, b.getF32Type(), bits);
        }
        e.store(s, scales, {t, g});
        e.loop(zero, cG, [&](Value i) {
          Value q = encodeE4M3FN(e, e.div(at(i), s));
          e.store(arith::BitcastOp::create(b, f8, q), values,
                  {t, e.add(base, i)});
        });
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
