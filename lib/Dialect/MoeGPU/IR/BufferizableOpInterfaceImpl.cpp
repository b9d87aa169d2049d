//===- BufferizableOpInterfaceImpl.cpp - bufferization of kernel ops ------===//
//
// Every moegpu op is in destination style: one-shot bufferization gives
// each init a buffer (the init's, in place, or a new allocation), reads the
// inputs' buffers and recreates the op on them, without results.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::moegpu;

namespace {
template <typename OpTy>
struct KernelOpBufferization
    : DstBufferizableOpInterfaceExternalModel<KernelOpBufferization<OpTy>,
                                              OpTy> {
  /// Inputs are read; an init only when the kernel updates it in place.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    if (!dps.isDpsInit(&operand))
      return true;
    return cast<KernelOpInterface>(op).readsInit(
        operand.getOperandNumber() - dps.getDpsInits().getBeginOperandIndex());
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto dps = cast<DestinationStyleOpInterface>(op);
    SmallVector<Value> operands, initBuffers;
    for (OpOperand &operand : op->getOpOperands()) {
      Value value = operand.get();
      if (isa<TensorType>(value.getType())) {
        FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
        if (failed(buffer))
          return failure();
        value = *buffer;
        if (dps.isDpsInit(&operand))
          initBuffers.push_back(value);
      }
      operands.push_back(value);
    }
    // The same op on buffers: same attributes and operand segments, no
    // results.
    rewriter.setInsertionPoint(op);
    SmallVector<NamedAttribute> attrs(op->getDiscardableAttrs());
    OperationState bufferized(op->getLoc(), op->getName(), operands,
                              TypeRange(), attrs);
    bufferized.propertiesAttr = op->getPropertiesAsAttribute();
    rewriter.create(bufferized);
    replaceOpWithBufferizedValues(rewriter, op, initBuffers);
    return success();
  }
};

template <typename... Ops> struct Attach {
  static void to(MLIRContext *ctx) {
    (Ops::template attachInterface<KernelOpBufferization<Ops>>(*ctx), ...);
  }
};
} // namespace

void mlir::moegpu::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, MoeGPUDialect *) {
    Attach<
#define GET_OP_LIST
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.cpp.inc"
        >::to(ctx);
  });
}
