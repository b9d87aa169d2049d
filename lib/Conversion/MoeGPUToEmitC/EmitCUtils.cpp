//===- EmitCUtils.cpp - helpers of the moegpu-to-emitc patterns -----------===//

#include "EmitCUtils.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUDialect.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"

using namespace mlir;
using namespace mlir::moegpu;

std::string emitcuda::cElementType(Type type) {
  if (auto named = dyn_cast<emitc::OpaqueType>(type))
    return named.getValue().str();
  return cElementTypeName(type);
}

Type emitcuda::opaque(MLIRContext *ctx, StringRef text) {
  return emitc::OpaqueType::get(ctx, text);
}

Type emitcuda::constPointer(MLIRContext *ctx, Type element) {
  return emitc::PointerType::get(opaque(ctx, "const " + cElementType(element)));
}

Type emitcuda::pointer(MLIRContext *ctx, Type element) {
  return emitc::PointerType::get(opaque(ctx, cElementType(element)));
}

FailureOr<emitcuda::KernelSite>
emitcuda::kernelSite(Operation *op, ConversionPatternRewriter &rw,
                     const KernelNames &names) {
  auto launcher = op->getParentOfType<emitc::FuncOp>();
  auto name = names.find(op);
  if (!launcher || launcher.getNumArguments() == 0 || name == names.end())
    return op->emitOpError("is not inside a launcher being converted");
  Value stream = launcher.getArgument(launcher.getNumArguments() - 1);
  ImplicitLocOpBuilder module(op->getLoc(), rw);
  module.setInsertionPoint(launcher);
  ImplicitLocOpBuilder body(op->getLoc(), rw);
  body.setInsertionPoint(op);
  return KernelSite{module, body, name->second, stream};
}

void emitcuda::emitVerbatim(ImplicitLocOpBuilder &b, StringRef text,
                            ValueRange args) {
  emitc::VerbatimOp::create(b, b.getStringAttr(text), args);
}

void emitcuda::emitReturnOnError(ImplicitLocOpBuilder &b, Value err) {
  emitVerbatim(b, "if ({} != cudaSuccess) return {};", ValueRange{err, err});
}

void emitcuda::emitCall(ImplicitLocOpBuilder &b, StringRef callee,
                        ValueRange operands, ArrayRef<Attribute> args,
                        ArrayRef<std::string> templateArgs) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Attribute> tmpl;
  for (const std::string &t : templateArgs)
    tmpl.push_back(emitc::OpaqueAttr::get(ctx, t));
  Value err = emitc::CallOpaqueOp::create(
                  b, opaque(ctx, "cudaError_t"), callee, operands,
                  args.empty() ? ArrayAttr() : b.getArrayAttr(args),
                  tmpl.empty() ? ArrayAttr() : b.getArrayAttr(tmpl))
                  .getResult(0);
  emitReturnOnError(b, err);
}

void emitcuda::emitKernel(ImplicitLocOpBuilder &m, StringRef name,
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

Value emitcuda::emitGrid(ImplicitLocOpBuilder &b, StringRef kernel,
                         StringRef blockSize, Value wanted, bool persistent) {
  MLIRContext *ctx = b.getContext();
  Type i32 = b.getI32Type();
  Value grid = emitc::VariableOp::create(b, emitc::LValueType::get(i32),
                                         b.getI32IntegerAttr(0));
  Value gridPtr =
      emitc::AddressOfOp::create(b, emitc::PointerType::get(i32), grid);
  emitCall(b, "moe::cuda::sizeGrid", ValueRange{wanted, gridPtr},
           {emitc::OpaqueAttr::get(
                ctx, ("reinterpret_cast<const void*>(" + kernel + ")").str()),
            emitc::OpaqueAttr::get(ctx, blockSize), b.getIndexAttr(0),
            emitc::OpaqueAttr::get(ctx, persistent ? "true" : "false"),
            b.getIndexAttr(1)});
  return emitc::LoadOp::create(b, i32, grid);
}

void emitcuda::emitLaunch(ImplicitLocOpBuilder &b, StringRef kernel, Value grid,
                          StringRef block, Value stream, ValueRange args) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> operands = {grid, stream};
  operands.append(args.begin(), args.end());
  SmallVector<Attribute> attrs = {
      emitc::OpaqueAttr::get(ctx, kernel), b.getIndexAttr(0),
      emitc::OpaqueAttr::get(ctx, block), b.getIndexAttr(1)};
  for (unsigned i = 0; i < args.size(); ++i)
    attrs.push_back(b.getIndexAttr(2 + i));
  emitCall(b, "moe::cuda::launchChained", operands, attrs);
}

void emitcuda::emitCheckLaunch(ImplicitLocOpBuilder &b) {
  Value last =
      emitc::CallOpaqueOp::create(b, opaque(b.getContext(), "cudaError_t"),
                                  "cudaGetLastError", ValueRange{})
          .getResult(0);
  emitReturnOnError(b, last);
}

Value emitcuda::emitI64(ImplicitLocOpBuilder &b, StringRef expr) {
  return emitc::LiteralOp::create(b, b.getI64Type(), expr);
}

Value emitcuda::emitNull(ImplicitLocOpBuilder &b, Type pointerType) {
  return emitc::LiteralOp::create(b, pointerType, "nullptr");
}

Value emitcuda::emitPointerCast(ImplicitLocOpBuilder &b, Value value,
                                StringRef type) {
  return emitc::CastOp::create(
      b, emitc::PointerType::get(opaque(b.getContext(), type)), value);
}

Value emitcuda::emitDivUp(ImplicitLocOpBuilder &b, Value value,
                          StringRef divisor) {
  return emitc::CallOpaqueOp::create(
             b, b.getI64Type(), "moe::cuda::divUp", ValueRange{value},
             b.getArrayAttr({b.getIndexAttr(0),
                             emitc::OpaqueAttr::get(b.getContext(), divisor)}),
             ArrayAttr())
      .getResult(0);
}
