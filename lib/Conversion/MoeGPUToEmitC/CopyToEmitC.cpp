//===- CopyToEmitC.cpp - results no kernel computes
//------------------------===//
//
// moegpu.copy and moegpu.zero are stream-ordered runtime calls, not
// kernels: cudaMemcpyAsync device to device, and cudaMemsetAsync.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"

#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

using namespace mlir;
using namespace mlir::moegpu;
using namespace mlir::moegpu::emitcuda;

/// Bytes of `rows` rows of `type` (a scalar is one row).
static Value rowBytes(ImplicitLocOpBuilder &b, Value rows, ShapedType type) {
  int64_t perRow = mlir::moe::elementBytes(type.getElementType());
  if (type.getRank() > 0)
    for (int64_t d : type.getShape().drop_front())
      perRow *= d;
  return emitc::MulOp::create(b, b.getI64Type(), rows,
                              emitI64(b, std::to_string(perRow)));
}

namespace {
struct CopyToEmitC : KernelToEmitC<CopyOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(CopyOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    ImplicitLocOpBuilder &b = site.body;
    Value bytes = rowBytes(b, adaptor.getRows(),
                           cast<ShapedType>(op.getInits()[0].getType()));
    emitCall(
        b, "cudaMemcpyAsync",
        {adaptor.getInits()[0], adaptor.getSource(), bytes, site.stream},
        {b.getIndexAttr(0), b.getIndexAttr(1), b.getIndexAttr(2),
         emitc::OpaqueAttr::get(op.getContext(), "cudaMemcpyDeviceToDevice"),
         b.getIndexAttr(3)});
    return success();
  }
};

struct ZeroToEmitC : KernelToEmitC<ZeroOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(ZeroOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    ImplicitLocOpBuilder &b = site.body;
    Value bytes = rowBytes(b, adaptor.getRows(),
                           cast<ShapedType>(op.getInits()[0].getType()));
    emitCall(b, "cudaMemsetAsync", {adaptor.getInits()[0], bytes, site.stream},
             {b.getIndexAttr(0), emitc::OpaqueAttr::get(op.getContext(), "0"),
              b.getIndexAttr(1), b.getIndexAttr(2)});
    return success();
  }
};
} // namespace

void mlir::moegpu::populateCopyToEmitCPatterns(const TypeConverter &,
                                               RewritePatternSet &patterns,
                                               const KernelNames &names) {
  patterns.add<CopyToEmitC, ZeroToEmitC>(patterns.getContext(), names);
}
