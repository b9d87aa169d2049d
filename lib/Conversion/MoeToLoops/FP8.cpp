//===- FP8.cpp - e4m3fn encoding and group quantisation as loops ----------===//

#include "FP8.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/bit.h"

#include <limits>

using namespace mlir;
using namespace mlir::moe::loops;

Value mlir::moe::loops::encodeE4M3FN(LoopEmitter &e, Value x) {
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

/// The bit arithmetic of a decode (no table: an op outside a module).
static Value decodeArithmetic(LoopEmitter &e, Value bits) {
  ImplicitLocOpBuilder &b = e.builder();
  auto i32 = [&](int64_t v) { return e.i32(v); };
  Value u = arith::ExtUIOp::create(b, b.getI32Type(), bits);
  Value sign = arith::ShLIOp::create(b, e.andi(u, i32(0x80)), i32(24));
  Value exponent = e.andi(arith::ShRUIOp::create(b, u, i32(3)), i32(0xF));
  Value mantissa = e.andi(u, i32(7));
  // Normal: 2^(e-7)·(1 + m/8), i.e. f32 exponent e + 120 and the mantissa
  // in the top three fraction bits. Subnormal: m · 2^-9, exact in f32.
  Value normal =
      e.ori(arith::ShLIOp::create(b, e.add(exponent, i32(120)), i32(23)),
            arith::ShLIOp::create(b, mantissa, i32(20)));
  Value sub = e.mul(arith::UIToFPOp::create(b, b.getF32Type(), mantissa),
                    e.f32(1.0 / 512.0));
  Value magnitude =
      e.select(e.cmpi(arith::CmpIPredicate::eq, exponent, i32(0)),
               arith::BitcastOp::create(b, b.getI32Type(), sub), normal);
  Value nan = e.cmpi(arith::CmpIPredicate::eq, e.andi(u, i32(0x7F)), i32(0x7F));
  magnitude = e.select(nan, i32(0x7FC00000), magnitude);
  return arith::BitcastOp::create(b, b.getF32Type(), e.ori(magnitude, sign));
}

/// The module's table of the 256 e4m3fn values (made on first use).
static constexpr StringLiteral kDecodeTable = "moe_e4m3fn_values";

Value mlir::moe::loops::decodeE4M3FN(LoopEmitter &e, Value bits) {
  ImplicitLocOpBuilder &b = e.builder();
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (!module)
    return decodeArithmetic(e, bits);
  // A table lookup keeps the IR of the FP8 loops small (a decode sits in
  // their innermost loops); the table holds exactly the values the bit
  // arithmetic gives (0x7F/0xFF: quiet NaN with the code's sign).
  auto type = MemRefType::get({256}, b.getF32Type());
  if (!SymbolTable::lookupSymbolIn(module, kDecodeTable)) {
    SmallVector<float> values;
    for (unsigned code = 0; code < 256; ++code) {
      uint32_t exponent = (code >> 3) & 0xF, mantissa = code & 7;
      uint32_t magnitude =
          exponent
              ? ((exponent + 120) << 23) | (mantissa << 20)
              : llvm::bit_cast<uint32_t>(static_cast<float>(mantissa) / 512.0f);
      if ((code & 0x7F) == 0x7F)
        magnitude = 0x7FC00000;
      values.push_back(
          llvm::bit_cast<float>(magnitude | ((code & 0x80) << 24)));
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, b.getStringAttr(kDecodeTable), b.getStringAttr("private"),
        TypeAttr::get(type),
        DenseElementsAttr::get(RankedTensorType::get({256}, b.getF32Type()),
                               ArrayRef<float>(values)),
        b.getUnitAttr(), IntegerAttr());
  }
  Value table = memref::GetGlobalOp::create(b, type, kDecodeTable);
  Value index = arith::IndexCastUIOp::create(b, b.getIndexType(), bits);
  return e.load(table, {index});
}

Value mlir::moe::loops::quantizeGroup(LoopEmitter &e, Value size,
                                      function_ref<Value(Value)> at,
                                      function_ref<void(Value, Value)> store,
                                      bool ue8m0) {
  ImplicitLocOpBuilder &b = e.builder();
  Value zero = e.idx(0);
  // NaN propagates through maximumf: a NaN in the group makes the scale NaN.
  Value amax = e.loop(zero, size, ValueRange{e.f32(0.0)},
                      [&](Value i, ValueRange acc) -> SmallVector<Value> {
                        Value v = math::AbsFOp::create(b, at(i));
                        return {arith::MaximumFOp::create(b, acc[0], v)};
                      })[0];
  amax = arith::MaximumFOp::create(b, amax, e.f32(1e-4));
  // A NaN scale is the quiet NaN 0x7FC00000, whatever payload the input's
  // NaN carried (the GPU makes that one too).
  Value s = e.div(amax, e.f32(448.0));
  s = e.select(e.isNaN(s),
               arith::BitcastOp::create(b, b.getF32Type(), e.i32(0x7FC00000)),
               s);
  if (ue8m0) {
    // A normal positive f32 with a nonzero mantissa goes up to the next
    // power of two; powers of two, inf and NaN stay.
    Value bits = arith::BitcastOp::create(b, b.getI32Type(), s);
    Value up = e.add(e.andi(bits, e.i32(0x7F800000)), e.i32(0x800000));
    Value exact = e.cmpi(arith::CmpIPredicate::eq,
                         e.andi(bits, e.i32(0x7FFFFF)), e.i32(0));
    Value special = e.cmpi(arith::CmpIPredicate::uge, bits, e.i32(0x7F800000));
    bits = e.select(e.ori(exact, special), bits, up);
    s = arith::BitcastOp::create(b, b.getF32Type(), bits);
  }
  // A NaN quotient (x or s NaN, inf / inf) keeps x's sign: processors sign
  // the NaNs they make differently, the code must not depend on it.
  e.loop(zero, size, [&](Value i) {
    Value x = at(i), q = e.div(x, s);
    Value signedNaN = math::CopySignOp::create(
        b, e.f32(std::numeric_limits<float>::quiet_NaN()), x);
    store(i, encodeE4M3FN(e, e.select(e.isNaN(q), signedNaN, q)));
  });
  return s;
}
