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
  if (auto named = dyn_cast<emitc::OpaqueType>(type))
    return named.getValue().str();
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

void mlir::moe::emitcuda::emitKernel(ImplicitLocOpBuilder &m, StringRef name,
                                     ArrayRef<Type> params, StringRef callee,
                                     ArrayRef<std::string> templateArgs,
                                     StringRef bounds) {
  auto kernel = emitc::FuncOp::create(m, name, m.getFunctionType(params, {}));
  SmallVector<StringRef> specifiers = {"static", "__global__"};
  if (!bounds.empty())
    specifiers.push_back(bounds);
  kernel.setSpecifiersAttr(m.getStrArrayAttr(specifiers));
  OpBuilder::InsertionGuard guard(m);
  Block *entry = kernel.addEntryBlock();
  m.setInsertionPointToStart(entry);
  SmallVector<Attribute> tmpl;
  for (const std::string &t : templateArgs)
    tmpl.push_back(emitc::OpaqueAttr::get(m.getContext(), t));
  emitc::CallOpaqueOp::create(m, TypeRange{}, callee, entry->getArguments(),
                              ArrayAttr{}, m.getArrayAttr(tmpl));
  emitc::ReturnOp::create(m, Value());
}

Value mlir::moe::emitcuda::emitGrid(ImplicitLocOpBuilder &b, StringRef kernel,
                                    StringRef blockSize, StringRef wantedExpr) {
  MLIRContext *ctx = b.getContext();
  Type i32 = b.getI32Type();
  Value grid = emitc::VariableOp::create(b, emitc::LValueType::get(i32),
                                         b.getI32IntegerAttr(0));
  Value gridPtr =
      emitc::AddressOfOp::create(b, emitc::PointerType::get(i32), grid);
  Value err =
      emitc::CallOpaqueOp::create(
          b, opaque(ctx, "cudaError_t"), "moe::cuda::fillGrid",
          ValueRange{gridPtr},
          b.getArrayAttr(
              {emitc::OpaqueAttr::get(
                   ctx,
                   ("reinterpret_cast<const void*>(" + kernel + ")").str()),
               emitc::OpaqueAttr::get(ctx, blockSize),
               emitc::OpaqueAttr::get(ctx, wantedExpr), b.getIndexAttr(0)}),
          ArrayAttr{})
          .getResult(0);
  emitReturnOnError(b, err);
  return emitc::LoadOp::create(b, i32, grid);
}

void mlir::moe::emitcuda::emitCheckLaunch(ImplicitLocOpBuilder &b) {
  Value last =
      emitc::CallOpaqueOp::create(b, opaque(b.getContext(), "cudaError_t"),
                                  "cudaGetLastError", ValueRange{})
          .getResult(0);
  emitReturnOnError(b, last);
}

/// `moe::cuda::launchChained(kernel, grid, block, stream, args...)` (a
/// programmatic dependent launch; grid <= 0 launches nothing) with the
/// early return.
void mlir::moe::emitcuda::emitLaunch(ImplicitLocOpBuilder &b, StringRef kernel,
                                     Value grid, StringRef block, Value stream,
                                     ValueRange args) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> operands = {grid, stream};
  operands.append(args.begin(), args.end());
  SmallVector<Attribute> attrs = {
      emitc::OpaqueAttr::get(ctx, kernel), b.getIndexAttr(0),
      emitc::OpaqueAttr::get(ctx, block), b.getIndexAttr(1)};
  for (unsigned i = 0; i < args.size(); ++i)
    attrs.push_back(b.getIndexAttr(2 + i));
  Value err = emitc::CallOpaqueOp::create(b, opaque(ctx, "cudaError_t"),
                                          "moe::cuda::launchChained", operands,
                                          b.getArrayAttr(attrs), ArrayAttr{})
                  .getResult(0);
  emitReturnOnError(b, err);
}
