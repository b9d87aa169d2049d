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

namespace {
/// What the two fused routing ops share, for the emitter.
struct RouteView {
  Operation *op;
  Value logits, bias, ids, weights, counts, stats;
  std::optional<ScoreFunc> func;
  int64_t numExperts, k, groups, groupTopk, groupSum;
  bool normalize;
  FloatAttr scale;
  BalanceLossAttr loss; // with statistics
  int64_t chunk = 1;
};

RouteView viewOf(Operation *operation) {
  RouteView v;
  v.op = operation;
  if (auto op = dyn_cast<FusedRouteOp>(operation)) {
    v.logits = op.getLogits();
    v.bias = op.getBias();
    v.ids = op.getIds();
    v.weights = op.getWeights();
    v.counts = op.getCounts();
    v.func = op.getFunc();
    v.numExperts = op.getNumExperts();
    v.k = op.getKAttr().getInt();
    v.groups = op.getGroupsAttr().getInt();
    v.groupTopk = op.getGroupTopkAttr().getInt();
    v.groupSum = op.getGroupScore().getCount();
    v.normalize = op.getNormalize();
    v.scale = op.getScaleAttr();
  } else {
    auto st = cast<FusedRouteStatsOp>(operation);
    v.logits = st.getLogits();
    v.bias = st.getBias();
    v.ids = st.getIds();
    v.weights = st.getWeights();
    v.counts = st.getCounts();
    v.stats = st.getStats();
    v.func = st.getFunc();
    v.numExperts = st.getNumExperts();
    v.k = st.getKAttr().getInt();
    v.groups = st.getGroupsAttr().getInt();
    v.groupTopk = st.getGroupTopkAttr().getInt();
    v.groupSum = st.getGroupScore().getCount();
    v.normalize = st.getNormalize();
    v.scale = st.getScaleAttr();
    v.loss = st.getLoss();
    v.chunk = st.getChunkAttr().getInt();
  }
  return v;
}

std::string specOf(const RouteView &v) {
  Type input = cast<ShapedType>(v.logits.getType()).getElementType();
  const char *func = "None";
  if (v.func)
    func = *v.func == ScoreFunc::sigmoid ? "Sigmoid" : "Softmax";
  std::string stats = "moe::cuda::NoStats";
  if (v.loss)
    stats = llvm::formatv(
        "moe::cuda::LossStats<{0}, {1}, {2}, {3}>",
        v.loss.getKind() == LossKind::sequence ? "true" : "false",
        v.loss.getCounts() == CountSource::topk ? "true" : "false",
        v.loss.getDevices(), v.chunk);
  return llvm::formatv("moe::cuda::RouteSpec<{0}, {1}, {2}, {3}, {4}, {5}, "
                       "moe::cuda::ScoreFunc::{6}, {7}, {8}, {9}, {10}>",
                       cElementType(input), v.numExperts, v.k, v.groups,
                       v.groupTopk, v.groups > 1 ? v.groupSum : 1, func,
                       v.normalize ? "true" : "false",
                       v.bias ? "true" : "false", v.counts ? "true" : "false",
                       stats)
      .str();
}
} // namespace

LogicalResult mlir::moe::checkRoutingKernelLimits(Operation *operation) {
  RouteView v = viewOf(operation);
  Operation *op = operation;
  int64_t e = v.numExperts, k = v.k, g = v.groups;
  int64_t n = v.groupSum;
  if (e > kMaxExperts)
    return op->emitOpError()
           << "has " << e
           << " experts; the CUDA routing kernel holds at "
              "most "
           << kMaxExperts << " (16 scores per lane of a warp)";
  if (k > kMaxK)
    return op->emitOpError()
           << "'k' (" << k << ") exceeds the CUDA routing kernel's limit of "
           << kMaxK << " (one warp lane per slot)";
  if (g > kMaxGroups)
    return op->emitOpError()
           << "'groups' (" << g
           << ") exceeds the CUDA routing kernel's limit of " << kMaxGroups;
  if (g > 1 && n > kMaxGroupSum)
    return op->emitOpError() << "'group_score' topk_sum<" << n
                             << "> exceeds the CUDA routing kernel's limit of "
                                "topk_sum<"
                             << kMaxGroupSum << ">";
  int64_t perLane = (e + kWarp - 1) / kWarp;
  int64_t perGroup = e / g;
  int64_t lanes = perGroup / perLane;
  if (g > 1 && (perGroup % perLane != 0 || !llvm::isPowerOf2_64(lanes)))
    return op->emitOpError()
           << "groups of " << perGroup << " experts do not map onto whole "
           << "warp lanes (" << perLane
           << " experts per lane; a group must be a power-of-two number of "
              "lanes)";
  return success();
}

LogicalResult mlir::moe::emitcuda::emitFusedRoute(Operation *operation,
                                                  LaunchContext &ctx) {
  if (failed(checkRoutingKernelLimits(operation)))
    return failure();
  RouteView v = viewOf(operation);
  MLIRContext *mctx = operation->getContext();
  ImplicitLocOpBuilder &m = ctx.module;
  Type inElem = cast<ShapedType>(v.logits.getType()).getElementType();
  Type f32 = m.getF32Type(), i32 = m.getI32Type(), i64 = m.getI64Type();

  // using <prefix>_spec = moe::cuda::RouteSpec<...>;
  std::string spec = ctx.prefix + "_spec";
  emitc::VerbatimOp::create(m, "using " + spec + " = " + specOf(v) + ";");

  // static __global__ __launch_bounds__(...) void <prefix>(...)
  SmallVector<Type> params = {constPointer(mctx, inElem),
                              constPointer(mctx, f32),
                              pointer(mctx, i32),
                              pointer(mctx, f32),
                              pointer(mctx, i32),
                              i64,
                              f32,
                              pointer(mctx, f32)};
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
  Value logits = ctx.bufferOf(v.logits);
  Value bias = v.bias ? ctx.bufferOf(v.bias) : Value();
  Value ids = ctx.bufferOf(v.ids);
  Value weights = ctx.bufferOf(v.weights);
  Value counts = v.counts ? ctx.bufferOf(v.counts) : Value();
  Value stats = v.stats ? ctx.bufferOf(v.stats) : Value();
  if (!logits || (v.bias && !bias) || !ids || !weights ||
      (v.counts && !counts) || (v.stats && !stats))
    return operation->emitOpError(
        "needs its operands to be function arguments and its results to be "
        "function results (buffers in between need a workspace)");

  Value scale = emitc::ConstantOp::create(b, f32, v.scale);
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
  auto addOptional = [&](Value value) {
    if (value) {
      args.push_back(b.getIndexAttr(operands.size()));
      operands.push_back(value);
    } else {
      args.push_back(emitc::OpaqueAttr::get(mctx, "nullptr"));
    }
  };
  addOptional(bias);
  addOptional(ids);
  addOptional(weights);
  addOptional(counts);
  for (Value value : {ctx.numTokens, ctx.stream, gridPtr}) {
    args.push_back(b.getIndexAttr(operands.size()));
    operands.push_back(value);
  }
  addOptional(stats);
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
                       (counts ? "{}" : "nullptr") + ", {}, {}, " +
                       (stats ? "{}" : "nullptr") + ");";
  SmallVector<Value> fmt = {blocks, blocks, ctx.stream, logits};
  if (bias)
    fmt.push_back(bias);
  fmt.append({ids, weights});
  if (counts)
    fmt.push_back(counts);
  fmt.append({ctx.numTokens, scale});
  if (stats)
    fmt.push_back(stats);
  emitc::VerbatimOp::create(b, b.getStringAttr(launch), fmt);
  emitCheckLaunch(b);
  return success();
}
