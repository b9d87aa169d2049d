//===- EmitCUtils.cpp - helpers shared by the moe-to-emitc lowering -------===//

#include "EmitCUtils.h"

using namespace mlir;

std::string mlir::moe::emitcuda::cElementType(Type type) {
  if (type.isF32())
    return "float";
  if (type.isBF16())
    return "__nv_bfloat16";
  if (type.isF16())
    return "__half";
  if (type.isF64())
    return "double";
  if (type.isInteger(1))
    return "bool";
  if (type.isInteger(32))
    return "int32_t";
  if (type.isInteger(64))
    return "int64_t";
  return "<unsupported>";
}

Type mlir::moe::emitcuda::opaque(MLIRContext *ctx, StringRef text) {
  return emitc::OpaqueType::get(ctx, text);
}

Type mlir::moe::emitcuda::constPointer(MLIRContext *ctx, Type element) {
  return emitc::PointerType::get(opaque(ctx, "const " + cElementType(element)));
}

Type mlir::moe::emitcuda::pointer(MLIRContext *ctx, Type element) {
  return emitc::PointerType::get(opaque(ctx, cElementType(element)));
}

void mlir::moe::emitcuda::emitReturnOnError(ImplicitLocOpBuilder &b,
                                            Value err) {
  emitc::VerbatimOp::create(
      b, b.getStringAttr("if ({} != cudaSuccess) return {};"),
      ValueRange{err, err});
}

void mlir::moe::emitcuda::emitGuard(ImplicitLocOpBuilder &b, StringRef text,
                                    ValueRange args) {
  emitc::VerbatimOp::create(b, b.getStringAttr(text), args);
}

Value mlir::moe::emitcuda::namedPointer(ImplicitLocOpBuilder &b, Type element,
                                        StringRef name) {
  return emitc::LiteralOp::create(b, pointer(b.getContext(), element), name);
}
