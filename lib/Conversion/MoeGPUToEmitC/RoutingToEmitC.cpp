//===- RoutingToEmitC.cpp - routing and load-balancing kernels ------------===//
//
// moegpu.route is a specialisation of moe::cuda::routeKernelBody (the
// warp-per-token routing of Routing.cuh) whose every constant is a
// template argument of a RouteSpec alias; moegpu.loss_from_stats,
// moegpu.loss_grad and moegpu.bias_update are the kernels of Loss.cuh.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moegpu;
using namespace mlir::moegpu::emitcuda;
using ::mlir::moe::BalanceLossAttr;
using ::mlir::moe::CountSource;
using ::mlir::moe::LossKind;
using ::mlir::moe::ScoreFunc;

static Type elementOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

static const char *scoreFuncName(std::optional<ScoreFunc> func) {
  if (!func)
    return "None";
  return *func == ScoreFunc::sigmoid ? "Sigmoid" : "Softmax";
}

static const char *lossKindName(LossKind kind) {
  switch (kind) {
  case LossKind::sequence:
    return "Sequence";
  case LossKind::expert:
    return "Expert";
  case LossKind::device:
    return "Device";
  case LossKind::comm:
    return "Comm";
  }
  return "Expert";
}

/// moe::cuda::LossSpec<...> of a loss configuration.
static std::string lossSpec(BalanceLossAttr config, int64_t experts, int64_t k,
                            int64_t width, int64_t chunk) {
  return llvm::formatv("moe::cuda::LossSpec<moe::cuda::LossKind::{0}, {1}, "
                       "{2}, {3}, {4}, {5}, {6}, {7}>",
                       lossKindName(config.getKind()), experts, k, width, chunk,
                       config.getSeqLen(), config.getDevices(),
                       config.getDeviceLimit())
      .str();
}

/// The loss weight alpha as an f32 constant, after checkLoss<spec>(T).
static Value emitAlphaAndChecks(ImplicitLocOpBuilder &b, StringRef spec,
                                BalanceLossAttr config, Value numTokens) {
  emitCall(b, "moe::cuda::checkLoss", numTokens, {}, {spec.str()});
  Type f32 = b.getF32Type();
  return emitc::ConstantOp::create(b, f32,
                                   FloatAttr::get(f32, config.getAlpha()));
}

namespace {
struct RouteToEmitC : KernelToEmitC<RouteOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(RouteOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type inElem = elementOf(op.getLogits());
    Type f32 = b.getF32Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
    std::string stats = "moe::cuda::NoStats";
    if (BalanceLossAttr loss = op.getStatsAttr())
      stats = llvm::formatv(
          "moe::cuda::LossStats<{0}, {1}, {2}, {3}>",
          loss.getKind() == LossKind::sequence ? "true" : "false",
          loss.getCounts() == CountSource::topk ? "true" : "false",
          loss.getDevices(), *op.getChunk());
    int64_t groups = op.getGroups();
    std::string spec = site.prefix + "_spec";
    emitVerbatim(
        m, llvm::formatv("using {0} = moe::cuda::RouteSpec<{1}, {2}, {3}, {4}, "
                         "{5}, {6}, moe::cuda::ScoreFunc::{7}, {8}, {9}, {10}, "
                         "{11}>;",
                         spec, cElementType(inElem), op.getNumExperts(),
                         op.getK(), groups, op.getGroupTopk(),
                         groups > 1 ? op.getGroupScore().getCount() : 1,
                         scoreFuncName(op.getFunc()),
                         op.getNormalize() ? "true" : "false",
                         op.getBias() ? "true" : "false",
                         op.getCounts() ? "true" : "false", stats)
               .str());
    auto kernel = emitc::FuncOp::create(
        m, site.prefix,
        m.getFunctionType({constPointer(ctx, inElem), constPointer(ctx, f32),
                           pointer(ctx, i32), pointer(ctx, f32),
                           pointer(ctx, i32), i64, f32, pointer(ctx, f32)},
                          {}));
    kernel.setSpecifiersAttr(
        m.getStrArrayAttr({"static", "__global__",
                           "__launch_bounds__(" + spec + "::BlockSize, " +
                               spec + "::MinBlocks)"}));
    {
      OpBuilder::InsertionGuard guard(m);
      Block *entry = kernel.addEntryBlock();
      m.setInsertionPointToStart(entry);
      emitc::CallOpaqueOp::create(
          m, TypeRange{}, "moe::cuda::routeKernelBody", entry->getArguments(),
          ArrayAttr{}, m.getArrayAttr({emitc::OpaqueAttr::get(ctx, spec)}));
      emitc::ReturnOp::create(m, Value());
    }

    // Argument checks, zeroed counts and the grid, then the launch.
    ValueRange inits = adaptor.getInits();
    Value logits = adaptor.getLogits(), bias = adaptor.getBias();
    Value ids = inits[0], weights = inits[1];
    Value counts = op.getCounts() ? inits[2] : Value();
    Value statsBuf = op.getStats() ? inits.back() : Value();
    Value numTokens = adaptor.getNumTokens();
    Value scale = emitc::ConstantOp::create(b, f32, op.getScaleAttr());
    Value grid = emitc::VariableOp::create(b, emitc::LValueType::get(i32),
                                           b.getI32IntegerAttr(0));
    Value gridPtr =
        emitc::AddressOfOp::create(b, emitc::PointerType::get(i32), grid);
    SmallVector<Value> operands = {logits};
    SmallVector<Attribute> args = {
        emitc::OpaqueAttr::get(ctx, "reinterpret_cast<const void*>(" +
                                        site.prefix + ")"),
        b.getIndexAttr(0)};
    auto addOptional = [&](Value value) {
      if (value) {
        args.push_back(b.getIndexAttr(operands.size()));
        operands.push_back(value);
      } else {
        args.push_back(emitc::OpaqueAttr::get(ctx, "nullptr"));
      }
    };
    addOptional(bias);
    addOptional(ids);
    addOptional(weights);
    addOptional(counts);
    for (Value value : {numTokens, site.stream}) {
      args.push_back(b.getIndexAttr(operands.size()));
      operands.push_back(value);
    }
    args.push_back(emitc::OpaqueAttr::get(
        ctx, op.getGrid() == GridPolicy::persistent ? "true" : "false"));
    args.push_back(b.getIndexAttr(operands.size()));
    operands.push_back(gridPtr);
    addOptional(statsBuf);
    emitCall(b, "moe::cuda::routePrepare", operands, args, {spec});

    Value blocks = emitc::LoadOp::create(b, i32, grid);
    std::string launch = "if ({} > 0) " + site.prefix + "<<<{}, " + spec +
                         "::BlockSize, 0, {}>>>({}, " +
                         (bias ? "{}" : "nullptr") + ", {}, {}, " +
                         (counts ? "{}" : "nullptr") + ", {}, {}, " +
                         (statsBuf ? "{}" : "nullptr") + ");";
    SmallVector<Value> fmt = {blocks, blocks, site.stream, logits};
    if (bias)
      fmt.push_back(bias);
    fmt.append({ids, weights});
    if (counts)
      fmt.push_back(counts);
    fmt.append({numTokens, scale});
    if (statsBuf)
      fmt.push_back(statsBuf);
    emitVerbatim(b, launch, fmt);
    emitCheckLaunch(b);
    return success();
  }
};

/// One block per sequence (per-expert weights g and the sequence's loss),
/// then one block for the mean, both in a fixed order.
struct LossFromStatsToEmitC : KernelToEmitC<LossFromStatsOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(LossFromStatsOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type f32 = b.getF32Type(), f64 = b.getF64Type(), i64 = b.getI64Type();
    auto g = cast<ShapedType>(op.getInits()[1].getType());
    int64_t experts = g.getDimSize(1);
    int64_t width = cast<ShapedType>(op.getStats().getType()).getDimSize(1);
    std::string spec = site.prefix + "_spec";
    emitVerbatim(m, "using " + spec + " = " +
                        lossSpec(op.getConfig(), experts, op.getK(), width,
                                 op.getChunk()) +
                        ";");
    std::string seqKernel = site.prefix + "_seq",
                meanKernel = site.prefix + "_mean";
    std::string bounds = "__launch_bounds__(" + spec + "::BlockSize)";
    emitKernel(m, seqKernel,
               {constPointer(ctx, f32), i64, f32, pointer(ctx, f32),
                pointer(ctx, f64)},
               "moe::cuda::lossSequenceBody", {spec}, bounds);
    emitKernel(m, meanKernel, {constPointer(ctx, f64), i64, pointer(ctx, f32)},
               "moe::cuda::lossMeanBody", {spec}, bounds);

    ValueRange inits = adaptor.getInits();
    Value numTokens = adaptor.getNumTokens();
    Value alpha = emitAlphaAndChecks(b, spec, op.getConfig(), numTokens);
    emitVerbatim(
        b,
        llvm::formatv(
            "if (moe::cuda::numSequences<{0}>({{}) > 0) {1}<<<moe::cuda::"
            "numSequences<{0}>({{}), {0}::BlockSize, 0, {{}>>>({{}, {{}, {{}, "
            "{{}, {{});",
            spec, seqKernel)
            .str(),
        ValueRange{numTokens, numTokens, site.stream, adaptor.getStats(),
                   numTokens, alpha, inits[1], inits[2]});
    emitVerbatim(
        b, meanKernel + "<<<1, " + spec + "::BlockSize, 0, {}>>>({}, {}, {});",
        ValueRange{site.stream, inits[2], numTokens, inits[0]});
    emitCheckLaunch(b);
    return success();
  }
};

/// One warp per token over the logits.
struct LossGradToEmitC : KernelToEmitC<LossGradOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(LossGradOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type f32 = b.getF32Type(), i64 = b.getI64Type();
    Type inElem = elementOf(op.getLogits());
    int64_t experts = cast<ShapedType>(op.getLogits().getType()).getDimSize(1);
    std::string spec = site.prefix + "_spec", lspec = site.prefix + "_loss";
    emitVerbatim(m, llvm::formatv("using {0} = moe::cuda::RouteSpec<{1}, {2}, "
                                  "1, 1, 1, 1, moe::cuda::ScoreFunc::{3}, "
                                  "false, false, false>;",
                                  spec, cElementType(inElem), experts,
                                  scoreFuncName(op.getFunc()))
                        .str());
    // The loss spec: only the kind, E and the sequence length matter here.
    int64_t width = 2 * experts + op.getConfig().getDevices();
    emitVerbatim(m, "using " + lspec + " = " +
                        lossSpec(op.getConfig(), experts, 1, width, 1) + ";");
    emitKernel(m, site.prefix,
               {constPointer(ctx, inElem), constPointer(ctx, f32), i64, f32,
                pointer(ctx, f32)},
               "moe::cuda::lossGradBody", {spec, lspec},
               "__launch_bounds__(" + spec + "::BlockSize, " + spec +
                   "::MinBlocks)");
    Value numTokens = adaptor.getNumTokens();
    Value alpha = emitAlphaAndChecks(b, lspec, op.getConfig(), numTokens);
    Value blocks = emitGrid(b, site.prefix, spec + "::BlockSize",
                            emitDivUp(b, numTokens, spec + "::WarpsPerBlock"),
                            op.getGrid() == GridPolicy::persistent);
    emitVerbatim(b,
                 "if ({} > 0) " + site.prefix + "<<<{}, " + spec +
                     "::BlockSize, 0, {}>>>({}, {}, {}, {}, {});",
                 ValueRange{blocks, blocks, site.stream, adaptor.getLogits(),
                            adaptor.getWeights(), numTokens, alpha,
                            adaptor.getInits()[0]});
    emitCheckLaunch(b);
    return success();
  }
};

/// One block comparing the counts with their mean exactly in integers.
struct BiasUpdateToEmitC : KernelToEmitC<BiasUpdateOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(BiasUpdateOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    int64_t experts = cast<ShapedType>(op.getBias().getType()).getDimSize(0);
    std::string threads = std::to_string(::moe::limits::BiasUpdateBlockSize);
    emitKernel(m, site.prefix,
               {constPointer(ctx, f32), constPointer(ctx, i32), f32,
                pointer(ctx, f32)},
               "moe::cuda::biasUpdateBody", {std::to_string(experts)},
               "__launch_bounds__(" + threads + ")");
    Value rate = emitc::ConstantOp::create(b, f32, op.getRateAttr());
    emitVerbatim(
        b, site.prefix + "<<<1, " + threads + ", 0, {}>>>({}, {}, {}, {});",
        ValueRange{site.stream, adaptor.getBias(), adaptor.getCounts(), rate,
                   adaptor.getInits()[0]});
    emitCheckLaunch(b);
    return success();
  }
};
} // namespace

void mlir::moegpu::populateRoutingToEmitCPatterns(const TypeConverter &,
                                                  RewritePatternSet &patterns,
                                                  const KernelNames &names) {
  patterns.add<RouteToEmitC, LossFromStatsToEmitC, LossGradToEmitC,
               BiasUpdateToEmitC>(patterns.getContext(), names);
}
