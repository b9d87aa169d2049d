//===- RoutingToEmitC.cpp - moe.fused_route as a CUDA kernel --------------===//
//
// The kernel is a specialisation of moe::cuda::routeKernelBody (the hand
// written warp-per-token routing of include/moe/Runtime/cuda/Routing.cuh):
// the emitted code fixes every routing constant in a RouteSpec alias and
// launches it with a triple-chevron launch from the host launcher.
//
//===----------------------------------------------------------------------===//

#include "RoutingToEmitC.h"
#include "EmitCUtils.h"

#include "moe/Conversion/MoeToEmitC/MoeToEmitC.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::emitcuda;

namespace {
/// Limits of the warp-per-token kernel, in one place.
constexpr int64_t kMaxExperts = 512; // 16 scores per lane
constexpr int64_t kMaxK = 32;        // lane k writes slot k
constexpr int64_t kMaxGroups = 32;   // group choice in a 32-bit mask
constexpr int64_t kMaxGroupSum = 4;  // top-n merge of sorted lists
constexpr int64_t kWarp = 32;
} // namespace

LogicalResult mlir::moe::checkRoutingKernelLimits(Operation *operation) {
  auto op = cast<FusedRouteOp>(operation);
  int64_t e = op.getNumExperts(), k = op.getK(), g = op.getGroups();
  int64_t n = op.getGroupScore().getCount();
  if (e > kMaxExperts)
    return op.emitOpError() << "has " << e
                            << " experts; the CUDA routing kernel holds at "
                               "most "
                            << kMaxExperts << " (16 scores per lane of a warp)";
  if (k > kMaxK)
    return op.emitOpError()
           << "'k' (" << k << ") exceeds the CUDA routing kernel's limit of "
           << kMaxK << " (one warp lane per slot)";
  if (g > kMaxGroups)
    return op.emitOpError()
           << "'groups' (" << g
           << ") exceeds the CUDA routing kernel's limit of " << kMaxGroups;
  if (g > 1 && n > kMaxGroupSum)
    return op.emitOpError() << "'group_score' topk_sum<" << n
                            << "> exceeds the CUDA routing kernel's limit of "
                               "topk_sum<"
                            << kMaxGroupSum << ">";
  int64_t perLane = (e + kWarp - 1) / kWarp;
  int64_t perGroup = e / g;
  int64_t lanes = perGroup / perLane;
  if (g > 1 && (perGroup % perLane != 0 || !llvm::isPowerOf2_64(lanes)))
    return op.emitOpError()
           << "groups of " << perGroup << " experts do not map onto whole "
           << "warp lanes (" << perLane
           << " experts per lane; a group must be a power-of-two number of "
              "lanes)";
  return success();
}

static std::string specOf(FusedRouteOp op) {
  Type input = op.getLogits().getType().getElementType();
  const char *func = "None";
  if (std::optional<ScoreFunc> f = op.getFunc())
    func = *f == ScoreFunc::sigmoid ? "Sigmoid" : "Softmax";
  int64_t groupSum = op.getGroups() > 1 ? op.getGroupScore().getCount() : 1;
  return llvm::formatv("moe::cuda::RouteSpec<{0}, {1}, {2}, {3}, {4}, {5}, "
                       "moe::cuda::ScoreFunc::{6}, {7}, {8}, {9}>",
                       cElementType(input), op.getNumExperts(), op.getK(),
                       op.getGroups(), op.getGroupTopk(), groupSum, func,
                       op.getNormalize() ? "true" : "false",
                       op.getBias() ? "true" : "false",
                       op.getCounts() ? "true" : "false")
      .str();
}

LogicalResult mlir::moe::emitcuda::emitFusedRoute(FusedRouteOp op,
                                                  LaunchContext &ctx) {
  if (failed(checkRoutingKernelLimits(op)))
    return failure();
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module;
  Type inElem = op.getLogits().getType().getElementType();
  Type f32 = m.getF32Type(), i32 = m.getI32Type(), i64 = m.getI64Type();

  // using <prefix>_spec = moe::cuda::RouteSpec<...>;
  std::string spec = ctx.prefix + "_spec";
  emitc::VerbatimOp::create(m, "using " + spec + " = " + specOf(op) + ";");

  // static __global__ __launch_bounds__(...) void <prefix>(...)
  SmallVector<Type> params = {constPointer(mctx, inElem),
                              constPointer(mctx, f32),
                              pointer(mctx, i32),
                              pointer(mctx, f32),
                              pointer(mctx, i32),
                              i64,
                              f32};
  auto kernel =
      emitc::FuncOp::create(m, ctx.prefix, m.getFunctionType(params, {}));
  std::string bounds =
      "__launch_bounds__(" + spec + "::BlockSize, " + spec + "::MinBlocks)";
  kernel.setSpecifiersAttr(m.getStrArrayAttr({"static", "__global__", bounds}));
  {
    OpBuilder::InsertionGuard guard(m);
    Block *entry = kernel.addEntryBlock();
    m.setInsertionPointToStart(entry);
    emitc::CallOpaqueOp::create(
        m, TypeRange{}, "moe::cuda::routeKernelBody", entry->getArguments(),
        ArrayAttr{}, m.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}));
    emitc::ReturnOp::create(m, Value());
  }

  // Launch: buffers, argument checks, zeroed counts, grid, kernel.
  ImplicitLocOpBuilder &b = ctx.body;
  Value logits = ctx.bufferOf(op.getLogits());
  Value bias = op.getBias() ? ctx.bufferOf(op.getBias()) : Value();
  Value ids = ctx.bufferOf(op.getIds());
  Value weights = ctx.bufferOf(op.getWeights());
  Value counts = op.getCounts() ? ctx.bufferOf(op.getCounts()) : Value();
  if (!logits || (op.getBias() && !bias) || !ids || !weights ||
      (op.getCounts() && !counts))
    return op.emitOpError("needs its operands to be function arguments and "
                          "its results to be function results (buffers in "
                          "between need a workspace)");

  Value scale = emitc::ConstantOp::create(b, f32, op.getScaleAttr());
  Value grid = emitc::VariableOp::create(b, emitc::LValueType::get(i32),
                                         b.getI32IntegerAttr(0));
  Value gridPtr =
      emitc::AddressOfOp::create(b, emitc::PointerType::get(i32), grid);

  // Operands of the prepare call, with nullptr for absent buffers.
  SmallVector<Value> operands = {logits};
  SmallVector<Attribute> args = {
      emitc::OpaqueAttr::get(mctx, "reinterpret_cast<const void*>(" +
                                       ctx.prefix + ")"),
      b.getIndexAttr(0)};
  auto addOptional = [&](Value v) {
    if (v) {
      args.push_back(b.getIndexAttr(operands.size()));
      operands.push_back(v);
    } else {
      args.push_back(emitc::OpaqueAttr::get(mctx, "nullptr"));
    }
  };
  addOptional(bias);
  addOptional(ids);
  addOptional(weights);
  addOptional(counts);
  for (Value v : {ctx.numTokens, ctx.stream, gridPtr}) {
    args.push_back(b.getIndexAttr(operands.size()));
    operands.push_back(v);
  }
  Value err = emitc::CallOpaqueOp::create(
                  b, opaque(mctx, "cudaError_t"), "moe::cuda::routePrepare",
                  operands, b.getArrayAttr(args),
                  b.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}))
                  .getResult(0);
  emitReturnOnError(b, err);

  Value blocks = emitc::LoadOp::create(b, i32, grid);
  std::string launch = "if ({} > 0) " + ctx.prefix + "<<<{}, " + spec +
                       "::BlockSize, 0, {}>>>({}, " +
                       (bias ? "{}" : "nullptr") + ", {}, {}, " +
                       (counts ? "{}" : "nullptr") + ", {}, {});";
  SmallVector<Value> fmt = {blocks, blocks, ctx.stream, logits};
  if (bias)
    fmt.push_back(bias);
  fmt.append({ids, weights});
  if (counts)
    fmt.push_back(counts);
  fmt.append({ctx.numTokens, scale});
  emitc::VerbatimOp::create(b, b.getStringAttr(launch), fmt);
  Value last = emitc::CallOpaqueOp::create(b, opaque(mctx, "cudaError_t"),
                                           "cudaGetLastError", ValueRange{})
                   .getResult(0);
  emitReturnOnError(b, last);
  return success();
}
