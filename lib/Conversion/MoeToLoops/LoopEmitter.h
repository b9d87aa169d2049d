//===- LoopEmitter.h - terse scf/memref/arith construction ------*- C++ -*-===//
//
// The CPU lowering writes explicit loop nests. This wrapper keeps them
// readable: loops take lambdas for their bodies, loads and stores take index
// lists, and arithmetic reads like the formulas in the op descriptions.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_LIB_CONVERSION_MOETOLOOPS_LOOPEMITTER_H
#define MOE_LIB_CONVERSION_MOETOLOOPS_LOOPEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include "moe/Conversion/MoeToLoops/MoeToLoops.h"

namespace mlir::moe::loops {

class LoopEmitter {
public:
  explicit LoopEmitter(ImplicitLocOpBuilder &b) : b(b) {}

  ImplicitLocOpBuilder &builder() { return b; }

  // Constants.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value f64(double v) {
    return arith::ConstantOp::create(b, b.getF64FloatAttr(v));
  }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, b.getI32IntegerAttr(v));
  }
  Value i8(int64_t v) {
    return arith::ConstantOp::create(b, b.getI8IntegerAttr(v));
  }
  Value i64(int64_t v) {
    return arith::ConstantOp::create(b, b.getI64IntegerAttr(v));
  }
  Value boolean(bool v) {
    return arith::ConstantOp::create(b, b.getBoolAttr(v));
  }

  // Memory.
  Value load(Value mem, ValueRange indices) {
    return memref::LoadOp::create(b, mem, indices);
  }
  void store(Value value, Value mem, ValueRange indices) {
    memref::StoreOp::create(b, value, mem, indices);
  }
  /// Size of dimension `i` of a memref, as an index (a constant when static).
  Value dim(Value mem, unsigned i) {
    auto type = cast<MemRefType>(mem.getType());
    if (!type.isDynamicDim(i))
      return idx(type.getDimSize(i));
    return memref::DimOp::create(b, mem, i);
  }
  /// Unless `ok`, records `kind` and `value` in the module's
  /// moe_runtime_error (the first failure stays); the program goes on.
  void reportUnless(Value ok, RuntimeError kind, Value value);
  /// A heap buffer; `sizes` gives every dimension (constants become static).
  Value alloc(Type elementType, ArrayRef<Value> sizes) {
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    for (Value size : sizes) {
      if (std::optional<int64_t> c = getConstantIntValue(size)) {
        shape.push_back(*c);
      } else {
        shape.push_back(ShapedType::kDynamic);
        dynamic.push_back(size);
      }
    }
    return memref::AllocOp::create(b, MemRefType::get(shape, elementType),
                                   dynamic);
  }
  /// Fills a buffer of any rank with `value`.
  void fill(Value mem, Value value) {
    auto type = cast<MemRefType>(mem.getType());
    SmallVector<Value> ivs;
    std::function<void(unsigned)> nest = [&](unsigned d) {
      if (d == type.getRank()) {
        store(value, mem, ivs);
        return;
      }
      loop(idx(0), dim(mem, d), [&](Value iv) {
        ivs.push_back(iv);
        nest(d + 1);
        ivs.pop_back();
      });
    };
    nest(0);
  }

  /// The memref view of a tensor operand (read only).
  Value toBuffer(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
    return bufferization::ToBufferOp::create(b, memrefType, tensor,
                                             /*read_only=*/true);
  }
  /// The tensor result backed by a freshly allocated buffer.
  Value toTensor(Value mem, Type tensorType) {
    return bufferization::ToTensorOp::create(b, tensorType, mem,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

  // Control flow.
  /// for iv in [lb, ub): body(iv)
  void loop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    body(forOp.getInductionVar());
  }
  /// A loop carrying values: returns the values after the last iteration.
  SmallVector<Value>
  loop(Value lb, Value ub, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(b, lb, ub, idx(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      Block *block = forOp.getBody();
      if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
        block->back().erase();
      b.setInsertionPointToEnd(block);
      SmallVector<Value> next =
          body(forOp.getInductionVar(), forOp.getRegionIterArgs());
      scf::YieldOp::create(b, next);
    }
    return SmallVector<Value>(forOp.getResults());
  }
  void ifThen(Value cond, function_ref<void()> thenBody) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    thenBody();
  }
  /// cond ? then() : else(), each yielding values of `types`.
  SmallVector<Value> ifElse(Value cond, TypeRange types,
                            function_ref<SmallVector<Value>()> thenBody,
                            function_ref<SmallVector<Value>()> elseBody) {
    auto ifOp = scf::IfOp::create(b, types, cond, /*addThenBlock=*/true,
                                  /*addElseBlock=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(ifOp.thenBlock());
      scf::YieldOp::create(b, thenBody());
      b.setInsertionPointToEnd(ifOp.elseBlock());
      scf::YieldOp::create(b, elseBody());
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  // Arithmetic.
  Value add(Value x, Value y) {
    if (isa<FloatType>(x.getType()))
      return arith::AddFOp::create(b, x, y);
    if (auto folded =
            foldIndex(x, y, [](int64_t p, int64_t q) { return p + q; }))
      return folded;
    return arith::AddIOp::create(b, x, y);
  }
  Value sub(Value x, Value y) {
    if (isa<FloatType>(x.getType()))
      return arith::SubFOp::create(b, x, y);
    return arith::SubIOp::create(b, x, y);
  }
  Value mul(Value x, Value y) {
    if (isa<FloatType>(x.getType()))
      return arith::MulFOp::create(b, x, y);
    if (auto folded =
            foldIndex(x, y, [](int64_t p, int64_t q) { return p * q; }))
      return folded;
    return arith::MulIOp::create(b, x, y);
  }
  Value div(Value x, Value y) {
    if (isa<FloatType>(x.getType()))
      return arith::DivFOp::create(b, x, y);
    return arith::DivSIOp::create(b, x, y);
  }
  Value rem(Value x, Value y) { return arith::RemSIOp::create(b, x, y); }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, cond, x, y);
  }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value noti(Value x) { return arith::XOrIOp::create(b, x, boolean(true)); }
  Value exp(Value x) { return math::ExpOp::create(b, x); }
  Value isNaN(Value x) { return cmpf(arith::CmpFPredicate::UNO, x, x); }

  /// f32 value of any float (exact widening).
  Value toF32(Value x) {
    if (x.getType().isF32())
      return x;
    return arith::ExtFOp::create(b, b.getF32Type(), x);
  }
  Value toF64(Value x) {
    if (x.getType().isF64())
      return x;
    if (isa<FloatType>(x.getType()))
      return arith::ExtFOp::create(b, b.getF64Type(), x);
    return arith::SIToFPOp::create(b, b.getF64Type(), x);
  }
  /// Rounds an f32 to `type` (round to nearest even).
  Value fromF32(Value x, Type type) {
    if (type.isF32())
      return x;
    return arith::TruncFOp::create(b, type, x);
  }
  Value indexToI32(Value x) {
    return arith::IndexCastOp::create(b, b.getI32Type(), x);
  }
  Value i32ToIndex(Value x) {
    return arith::IndexCastOp::create(b, b.getIndexType(), x);
  }
  Value indexToF64(Value x) {
    Value i = arith::IndexCastOp::create(b, b.getI64Type(), x);
    return arith::SIToFPOp::create(b, b.getF64Type(), i);
  }

  /// The routing order: `x` ranks above `y` when it is larger, or when `y`
  /// is NaN and `x` is not (NaN ranks below every number, -inf included).
  /// Equal values do not rank above each other; scans in increasing index
  /// order therefore keep the lower index on ties.
  Value ranksAbove(Value x, Value y) {
    Value greater = cmpf(arith::CmpFPredicate::OGT, x, y);
    Value onlyYNaN = andi(isNaN(y), noti(isNaN(x)));
    return ori(greater, onlyYNaN);
  }

  /// Index in [lb, ub) of the best `value(i)` among those with `eligible(i)`,
  /// in the routing order, lowest index on ties; -1 when none is eligible.
  /// Returns {index as `index`, value}.
  std::pair<Value, Value> argBest(Value lb, Value ub,
                                  function_ref<Value(Value)> eligible,
                                  function_ref<Value(Value)> value) {
    Value none = idx(-1);
    SmallVector<Value> result =
        loop(lb, ub, ValueRange{none, f32(0.0)},
             [&](Value i, ValueRange carried) -> SmallVector<Value> {
               Value best = carried[0], bestValue = carried[1];
               Value v = value(i);
               Value first = cmpi(arith::CmpIPredicate::eq, best, none);
               Value better = ori(first, ranksAbove(v, bestValue));
               Value take = andi(eligible(i), better);
               return {select(take, i, best), select(take, v, bestValue)};
             });
    return {result[0], result[1]};
  }

private:
  /// Static sizes stay static: index arithmetic on constants is folded so
  /// that buffers sized by it get static shapes.
  Value foldIndex(Value x, Value y,
                  function_ref<int64_t(int64_t, int64_t)> fn) {
    if (!x.getType().isIndex())
      return {};
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    if (!cx || !cy)
      return {};
    return idx(fn(*cx, *cy));
  }

  ImplicitLocOpBuilder &b;
};

} // namespace mlir::moe::loops

#endif // MOE_LIB_CONVERSION_MOETOLOOPS_LOOPEMITTER_H
