//===- EmitCUtils.h - helpers shared by the moe-to-emitc lowering -*- C++
//-*-===//

#ifndef MOE_LIB_CONVERSION_MOETOEMITC_EMITCUTILS_H
#define MOE_LIB_CONVERSION_MOETOEMITC_EMITCUTILS_H

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <optional>
#include <string>

namespace mlir::moe::emitcuda {

/// The C spelling of a tensor element type.
std::string cElementType(Type type);

/// `const T*` and `T*` for an element type; the other EmitC types of the
/// launchers.
Type constPointer(MLIRContext *ctx, Type element);
Type pointer(MLIRContext *ctx, Type element);
Type opaque(MLIRContext *ctx, StringRef text);

/// A workspace buffer a kernel needs beyond the op's results.
struct Scratch {
  Type element;         // element type
  std::string rowsExpr; // rows, a C expression in `moe_T`
  int64_t rowBytes;
};

/// The C name of the token count inside a launcher.
inline constexpr const char *kTokens = "moe_T";

/// The rows of a moe.permute whose copy the routed expert GEMM reading them
/// makes itself (convert-moe-to-emitc's fuse-gather): they get no buffer,
/// and the GEMM reads row r from row rowToken[r] of the permute's input.
struct GatheredRows {
  Operation *permute;
  Value input;    // the permute's input buffer, [T, H]
  Value rowToken; // int32 [T*K]: the token of each row (permute scratch)
};

/// What a fused op's lowering needs from the launcher being built.
struct LaunchContext {
  /// Module-level builder: kernels and type aliases go before the launcher.
  ImplicitLocOpBuilder &module;
  /// Builder inside the launcher body.
  ImplicitLocOpBuilder &body;
  /// Unique prefix for this op's kernel (launcher name + index).
  std::string prefix;
  /// The launcher value holding the buffer of a tensor (a pointer
  /// parameter), or null when the tensor has no buffer (diagnosed by the
  /// caller).
  std::function<Value(Value)> bufferOf;
  /// The i-th scratch buffer this op asked for (see scratchOf).
  std::function<Value(unsigned)> scratch;
  /// How a permute's rows are gathered instead of copied, if they are.
  std::function<std::optional<GatheredRows>(Value)> gatheredRows;
  Value numTokens;
  Value stream;
};

/// Emits `if (cond) return err;` style guard text.
void emitGuard(ImplicitLocOpBuilder &b, StringRef text, ValueRange args = {});

/// A kernel `static __global__ [bounds] void name(params) {
/// callee<templateArgs>(params...); }` at the builder's position.
void emitKernel(ImplicitLocOpBuilder &m, StringRef name, ArrayRef<Type> params,
                StringRef callee, ArrayRef<std::string> templateArgs,
                StringRef bounds);

/// `cudaError_t err = moe::cuda::fillGrid(kernel, blockSize, wanted, &grid);`
/// with the early return; returns the grid value.
Value emitGrid(ImplicitLocOpBuilder &b, StringRef kernel, StringRef blockSize,
               StringRef wantedExpr);

/// `moe::cuda::launchChained(kernel, grid, block, stream, args...)`: a
/// programmatic dependent launch (an empty grid launches nothing), with the
/// early return.
void emitLaunch(ImplicitLocOpBuilder &b, StringRef kernel, Value grid,
                StringRef block, Value stream, ValueRange args);

/// `cudaGetLastError()` with the early return.
void emitCheckLaunch(ImplicitLocOpBuilder &b);

/// A C pointer value named `name` (declared by earlier verbatim text).
Value namedPointer(ImplicitLocOpBuilder &b, Type element, StringRef name);

/// Emits `if (err != cudaSuccess) return err;` for an error value.
void emitReturnOnError(ImplicitLocOpBuilder &b, Value err);

} // namespace mlir::moe::emitcuda

#endif // MOE_LIB_CONVERSION_MOETOEMITC_EMITCUTILS_H
