//===- EmitCUtils.h - helpers of the moegpu-to-emitc patterns ---*- C++ -*-===//

#ifndef MOE_LIB_CONVERSION_MOEGPUTOEMITC_EMITCUTILS_H
#define MOE_LIB_CONVERSION_MOEGPUTOEMITC_EMITCUTILS_H

#include "moe/Conversion/MoeGPUToEmitC/MoeGPUToEmitC.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <string>

namespace mlir::moegpu::emitcuda {

/// The C spelling of an element type.
std::string cElementType(Type type);

/// `const T*` and `T*` for an element type; opaque C types.
Type constPointer(MLIRContext *ctx, Type element);
Type pointer(MLIRContext *ctx, Type element);
Type opaque(MLIRContext *ctx, StringRef text);

/// What a kernel op's pattern emits with: the module-level position for
/// its kernels and aliases (before the launcher), its position in the
/// launcher, the kernel name prefix and the launcher's stream.
struct KernelSite {
  ImplicitLocOpBuilder module;
  ImplicitLocOpBuilder body;
  std::string prefix;
  Value stream;
};

/// The site of kernel op `op` (being converted inside an emitc.func
/// launcher whose last argument is the stream), or failure.
FailureOr<KernelSite> kernelSite(Operation *op, ConversionPatternRewriter &rw,
                                 const KernelNames &names);

/// `text` with `{}` placeholders for `args` as a verbatim statement.
void emitVerbatim(ImplicitLocOpBuilder &b, StringRef text,
                  ValueRange args = {});

/// `if (err != cudaSuccess) return err;` for an error value.
void emitReturnOnError(ImplicitLocOpBuilder &b, Value err);

/// `cudaError_t e = callee<templateArgs>(operands...)` with the early
/// return; `args` as emitc.call_opaque's (indices into operands and opaque
/// or other attributes), or all operands in order when empty.
void emitCall(ImplicitLocOpBuilder &b, StringRef callee, ValueRange operands,
              ArrayRef<Attribute> args = {},
              ArrayRef<std::string> templateArgs = {});

/// A kernel `static __global__ [bounds] void name(params) {
/// callee<templateArgs>(params...); }` at the builder's position.
void emitKernel(ImplicitLocOpBuilder &m, StringRef name, ArrayRef<Type> params,
                StringRef callee, ArrayRef<std::string> templateArgs,
                StringRef bounds);

/// The grid of a grid-stride kernel under its grid policy:
/// `moe::cuda::sizeGrid(kernel, blockSize, wanted, persistent, &grid)`
/// with the early return; returns the grid (i32).
Value emitGrid(ImplicitLocOpBuilder &b, StringRef kernel, StringRef blockSize,
               Value wanted, bool persistent);

/// `moe::cuda::launchChained(kernel, grid, block, stream, args...)`: a
/// programmatic dependent launch (an empty grid launches nothing), with the
/// early return.
void emitLaunch(ImplicitLocOpBuilder &b, StringRef kernel, Value grid,
                StringRef block, Value stream, ValueRange args);

/// `cudaGetLastError()` with the early return.
void emitCheckLaunch(ImplicitLocOpBuilder &b);

/// An i64 value of a C expression.
Value emitI64(ImplicitLocOpBuilder &b, StringRef expr);
/// `nullptr` of a pointer type.
Value emitNull(ImplicitLocOpBuilder &b, Type pointerType);
/// `(T*) value`.
Value emitPointerCast(ImplicitLocOpBuilder &b, Value value, StringRef type);

/// `moe::cuda::divUp(value, divisor)` for a C expression divisor.
Value emitDivUp(ImplicitLocOpBuilder &b, Value value, StringRef divisor);

/// The pattern of a kernel op: emits its kernels and launch at its site
/// (memref form, inside a launcher being converted) and erases it. No type
/// converter: operands come as the launcher maps them (inputs are const
/// pointers).
template <typename OpT> struct KernelToEmitC : OpConversionPattern<OpT> {
  KernelToEmitC(MLIRContext *ctx, const KernelNames &names)
      : OpConversionPattern<OpT>(ctx), names(names) {}

  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    if (op->getNumResults())
      return op.emitOpError("is not bufferized: run one-shot-bufferize and "
                            "moegpu-plan-memory first");
    FailureOr<KernelSite> site = kernelSite(op, rewriter, names);
    if (failed(site) || failed(emit(op, adaptor, *site)))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }

  virtual LogicalResult emit(OpT op, typename OpT::Adaptor adaptor,
                             KernelSite &site) const = 0;

private:
  const KernelNames &names;
};

} // namespace mlir::moegpu::emitcuda

#endif // MOE_LIB_CONVERSION_MOEGPUTOEMITC_EMITCUTILS_H
