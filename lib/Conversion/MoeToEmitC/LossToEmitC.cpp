//===- LossToEmitC.cpp - balance losses and the bias update as kernels ----===//
//
// moe.loss_from_stats: one block per sequence (per-expert weights g and the
// sequence's loss into a workspace), then one block for the mean, both in a
// fixed summation order. moe.fused_loss_grad: one warp per token over the
// logits. moe.bias_update: one block. The device code is
// include/moe/Runtime/cuda/Loss.cuh; the specialisation is emitted here.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"
#include "RoutingToEmitC.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::emitcuda;

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

/// moe::cuda::LossSpec<...> for a configuration.
static std::string lossSpec(BalanceLossAttr config, int64_t numExperts,
                            int64_t k, int64_t width, int64_t chunk) {
  return llvm::formatv("moe::cuda::LossSpec<moe::cuda::LossKind::{0}, {1}, "
                       "{2}, {3}, {4}, {5}, {6}, {7}>",
                       lossKindName(config.getKind()), numExperts, k, width,
                       chunk, config.getSeqLen(), config.getDevices(),
                       config.getDeviceLimit())
      .str();
}

static LogicalResult missingBuffers(Operation *op) {
  return op->emitOpError(
      "needs its operands and results to have buffers (function arguments, "
      "results or workspace)");
}

SmallVector<Scratch> mlir::moe::emitcuda::lossScratch(Operation *op) {
  auto loss = dyn_cast<LossFromStatsOp>(op);
  if (!loss)
    return {};
  int64_t seqLen = loss.getConfig().getSeqLen();
  std::string rows = seqLen
                         ? llvm::formatv("({0} / {1})", kTokens, seqLen).str()
                         : llvm::formatv("({0} > 0 ? 1 : 0)", kTokens).str();
  return {Scratch{Float64Type::get(op->getContext()), rows, 8}};
}

/// `checkLoss<spec>(T)` with the early return; the loss weight alpha as a
/// constant.
static Value emitAlphaAndChecks(LaunchContext &ctx, StringRef spec,
                                BalanceLossAttr config) {
  ImplicitLocOpBuilder &b = ctx.body;
  MLIRContext *mctx = b.getContext();
  Value err = emitc::CallOpaqueOp::create(
                  b, opaque(mctx, "cudaError_t"), "moe::cuda::checkLoss",
                  ValueRange{ctx.numTokens}, ArrayAttr{},
                  b.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}))
                  .getResult(0);
  emitReturnOnError(b, err);
  Type f32 = b.getF32Type();
  return emitc::ConstantOp::create(b, f32,
                                   FloatAttr::get(f32, config.getAlpha()));
}

LogicalResult mlir::moe::emitcuda::emitLossFromStats(Operation *operation,
                                                     LaunchContext &ctx) {
  auto op = cast<LossFromStatsOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type f32 = m.getF32Type(), f64 = m.getF64Type(), i64 = m.getI64Type();
  int64_t numExperts = op.getWeights().getType().getDimSize(1);
  int64_t width = op.getStats().getType().getDimSize(1);
  std::string spec = ctx.prefix + "_spec";
  emitc::VerbatimOp::create(m, "using " + spec + " = " +
                                   lossSpec(op.getConfig(), numExperts,
                                            op.getKAttr().getInt(), width,
                                            op.getChunkAttr().getInt()) +
                                   ";");
  std::string seqKernel = ctx.prefix + "_seq",
              meanKernel = ctx.prefix + "_mean";
  emitKernel(m, seqKernel,
             {constPointer(mctx, f32), i64, f32, pointer(mctx, f32),
              pointer(mctx, f64)},
             "moe::cuda::lossSequenceBody", {spec},
             "__launch_bounds__(" + spec + "::BlockSize)");
  emitKernel(m, meanKernel, {constPointer(mctx, f64), i64, pointer(mctx, f32)},
             "moe::cuda::lossMeanBody", {spec},
             "__launch_bounds__(" + spec + "::BlockSize)");

  Value stats = ctx.bufferOf(op.getStats());
  Value loss = ctx.bufferOf(op.getLoss());
  Value g = ctx.bufferOf(op.getWeights());
  Value seqLoss = ctx.scratch(0);
  if (!stats || !loss || !g)
    return missingBuffers(op);
  Value alpha = emitAlphaAndChecks(ctx, spec, op.getConfig());
  std::string launch = llvm::formatv(
      "if (moe::cuda::numSequences<{0}>({{}) > 0) {1}<<<moe::cuda::"
      "numSequences<{0}>({{}), {0}::BlockSize, 0, {{}>>>({{}, {{}, {{}, {{}, "
      "{{});",
      spec, seqKernel);
  emitGuard(b, launch,
            ValueRange{ctx.numTokens, ctx.numTokens, ctx.stream, stats,
                       ctx.numTokens, alpha, g, seqLoss});
  emitGuard(b,
            meanKernel + "<<<1, " + spec + "::BlockSize, 0, {}>>>({}, {}, {});",
            ValueRange{ctx.stream, seqLoss, ctx.numTokens, loss});
  emitCheckLaunch(b);
  return success();
}

LogicalResult mlir::moe::emitcuda::emitFusedLossGrad(Operation *operation,
                                                     LaunchContext &ctx) {
  auto op = cast<FusedLossGradOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type f32 = m.getF32Type(), i64 = m.getI64Type();
  Type inElem = op.getLogits().getType().getElementType();
  int64_t numExperts = op.getLogits().getType().getDimSize(1);
  if (numExperts > 512)
    return op.emitOpError() << "has " << numExperts
                            << " experts; the CUDA gradient kernel holds at "
                               "most 512 (16 per lane of a warp)";
  std::string spec = ctx.prefix + "_spec", lspec = ctx.prefix + "_loss";
  const char *func = op.getFunc() == ScoreFunc::sigmoid ? "Sigmoid" : "Softmax";
  emitc::VerbatimOp::create(
      m, llvm::formatv("using {0} = moe::cuda::RouteSpec<{1}, {2}, 1, 1, 1, "
                       "1, moe::cuda::ScoreFunc::{3}, false, false, false>;",
                       spec, cElementType(inElem), numExperts, func)
             .str());
  // The loss spec: only the kind, E and the sequence length matter here.
  int64_t width = 2 * numExperts + op.getConfig().getDevices();
  emitc::VerbatimOp::create(
      m, "using " + lspec + " = " +
             lossSpec(op.getConfig(), numExperts, 1, width, 1) + ";");
  emitKernel(m, ctx.prefix,
             {constPointer(mctx, inElem), constPointer(mctx, f32), i64, f32,
              pointer(mctx, f32)},
             "moe::cuda::lossGradBody", {spec, lspec},
             "__launch_bounds__(" + spec + "::BlockSize, " + spec +
                 "::MinBlocks)");

  Value logits = ctx.bufferOf(op.getLogits());
  Value g = ctx.bufferOf(op.getWeights());
  Value grad = ctx.bufferOf(op.getGrad());
  if (!logits || !g || !grad)
    return missingBuffers(op);
  Value alpha = emitAlphaAndChecks(ctx, lspec, op.getConfig());
  // A warp per token, up to what the device keeps resident.
  Value blocks = emitGrid(
      b, ctx.prefix, spec + "::BlockSize",
      llvm::formatv("moe::cuda::divUp({0}, {1}::WarpsPerBlock)", kTokens, spec)
          .str());
  emitGuard(b,
            "if ({} > 0) " + ctx.prefix + "<<<{}, " + spec +
                "::BlockSize, 0, {}>>>({}, {}, {}, {}, {});",
            ValueRange{blocks, blocks, ctx.stream, logits, g, ctx.numTokens,
                       alpha, grad});
  emitCheckLaunch(b);
  return success();
}

LogicalResult mlir::moe::emitcuda::emitBiasUpdate(Operation *operation,
                                                  LaunchContext &ctx) {
  auto op = cast<BiasUpdateOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type f32 = m.getF32Type(), i32 = m.getI32Type();
  int64_t numExperts = op.getBias().getType().getDimSize(0);
  emitKernel(m, ctx.prefix,
             {constPointer(mctx, f32), constPointer(mctx, i32), f32,
              pointer(mctx, f32)},
             "moe::cuda::biasUpdateBody", {std::to_string(numExperts)},
             "__launch_bounds__(256)");
  Value bias = ctx.bufferOf(op.getBias());
  Value counts = ctx.bufferOf(op.getCounts());
  Value updated = ctx.bufferOf(op.getUpdated());
  if (!bias || !counts || !updated)
    return missingBuffers(op);
  Value rate = emitc::ConstantOp::create(b, f32, op.getRateAttr());
  emitGuard(b, ctx.prefix + "<<<1, 256, 0, {}>>>({}, {}, {}, {});",
            ValueRange{ctx.stream, bias, counts, rate, updated});
  emitCheckLaunch(b);
  return success();
}
