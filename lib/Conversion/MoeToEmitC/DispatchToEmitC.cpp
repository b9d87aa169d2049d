//===- DispatchToEmitC.cpp - dispatch layout, permute, combine in CUDA ----===//
//
// Each op becomes specialisations of the bodies in
// include/moe/Runtime/cuda/Dispatch.cuh, launched on the caller's stream
// with no host synchronisation: the permute's offsets and row map are
// produced on the device and read there by the later kernels.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"
#include "RoutingToEmitC.h"

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::emitcuda;

namespace {
/// Limits of the kernels, in one place (they mirror Dispatch.cuh).
constexpr int64_t kMaxSlots = 64;            // LayoutSpec: per-token arrays
constexpr int64_t kMaxPermuteExperts = 1024; // scan: one thread per expert
constexpr int64_t kMaxCombineSlots = 256;    // combine: a thread per slot
constexpr int64_t kPermutePerBlock = 512;    // PermuteSpec::PerBlock
} // namespace

static LogicalResult missingBuffers(Operation *op) {
  return op->emitOpError(
      "needs its operands and results to have buffers (function arguments, "
      "returned values or values between kernels)");
}

/// The token count as a C expression of rows of T*K.
static std::string slotsExpr(int64_t k) {
  return llvm::formatv("({0} * {1})", kTokens, k).str();
}

SmallVector<Scratch> mlir::moe::emitcuda::permuteScratch(Operation *operation) {
  auto op = cast<PermuteOp>(operation);
  MLIRContext *ctx = op.getContext();
  Type i32 = IntegerType::get(ctx, 32);
  int64_t numExperts = op.getNumExperts();
  int64_t k = op.getIds().getType().getDimSize(1);
  std::string slots = slotsExpr(k);
  SmallVector<Scratch> scratch = {
      Scratch{i32, slots, 4}, // localRank
      Scratch{
          i32,
          llvm::formatv("moe::cuda::divUp({0}, {1})", slots, kPermutePerBlock)
              .str(),
          4 * numExperts},                     // blockCount
      Scratch{i32, "1", 4 * (numExperts + 1)}, // total
      Scratch{i32, slots, 4},                  // rowToken
  };
  static_assert(kRowTokenScratch == 3, "rowToken is the fourth buffer");
  if (op.getCapacityFactor() && op.getDropPolicy() == DropPolicy::probs)
    scratch.push_back(Scratch{i32, slots, 4}); // segment
  return scratch;
}

bool mlir::moe::emitcuda::canGatherRows(Operation *operation) {
  auto op = cast<PermuteOp>(operation);
  if (!op.getRows().hasOneUse())
    return false;
  auto ffn = dyn_cast<ExpertFFNOp>(*op.getRows().getUsers().begin());
  return ffn && ffn.getRows() == op.getRows() &&
         ffn.getOffsets() == op.getOffsets();
}

SmallVector<Scratch> mlir::moe::emitcuda::scratchOf(Operation *op) {
  if (isa<PermuteOp>(op))
    return permuteScratch(op);
  if (isa<GateOp, ExpertFFNOp>(op))
    return gemmScratch(op);
  return lossScratch(op);
}

LogicalResult mlir::moe::emitcuda::emitDispatchLayout(Operation *operation,
                                                      LaunchContext &ctx) {
  auto op = cast<DispatchLayoutOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type i32 = m.getI32Type(), i64 = m.getI64Type(), i1 = m.getI1Type();
  TopologyAttr topo = op.getTopology();
  int64_t k = op.getIds().getType().getDimSize(1);
  if (k > kMaxSlots)
    return op.emitOpError() << "has " << k
                            << " slots per token; the CUDA dispatch layout "
                               "handles at most "
                            << kMaxSlots;
  std::string spec = ctx.prefix + "_spec";
  emitc::VerbatimOp::create(
      m, llvm::formatv("using {0} = moe::cuda::LayoutSpec<{1}, {2}, {3}, {4}>;",
                       spec, k, topo.getNodes(), topo.getGpusPerNode(),
                       topo.getExpertsPerGpu())
             .str());
  emitKernel(m, ctx.prefix,
             {constPointer(mctx, i32), i64, pointer(mctx, i32),
              pointer(mctx, i32), pointer(mctx, i32), pointer(mctx, i1)},
             "moe::cuda::dispatchLayoutBody", {spec},
             "__launch_bounds__(" + spec + "::BlockSize)");

  Value ids = ctx.bufferOf(op.getIds());
  Value perExpert = ctx.bufferOf(op.getTokensPerExpert());
  Value perRank = ctx.bufferOf(op.getTokensPerRank());
  Value perNode = ctx.bufferOf(op.getTokensPerNode());
  Value inRank = ctx.bufferOf(op.getIsTokenInRank());
  if (!ids || !perExpert || !perRank || !perNode || !inRank)
    return missingBuffers(op);
  Value grid = emitGrid(b, ctx.prefix, spec + "::BlockSize",
                        std::string("moe::cuda::divUp(") + kTokens + ", " +
                            spec + "::TokensPerBlock)");
  // Several blocks add to zeroed counts; a single one writes them.
  Value err =
      emitc::CallOpaqueOp::create(
          b, opaque(mctx, "cudaError_t"), "moe::cuda::zeroLayoutCounts",
          ValueRange{grid, perExpert, perRank, perNode, ctx.stream},
          ArrayAttr{}, b.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}))
          .getResult(0);
  emitReturnOnError(b, err);
  emitLaunch(b, ctx.prefix, grid, spec + "::BlockSize", ctx.stream,
             {ids, ctx.numTokens, perExpert, perRank, perNode, inRank});
  return success();
}

LogicalResult mlir::moe::emitcuda::emitPermute(Operation *operation,
                                               LaunchContext &ctx) {
  auto op = cast<PermuteOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type i32 = m.getI32Type(), i64 = m.getI64Type(), f32 = m.getF32Type();
  Type elem = op.getInput().getType().getElementType();
  int64_t numExperts = op.getNumExperts();
  int64_t k = op.getIds().getType().getDimSize(1);
  int64_t hidden = op.getInput().getType().getDimSize(1);
  int64_t vec = 16 / (elem.getIntOrFloatBitWidth() / 8);
  if (numExperts > kMaxPermuteExperts)
    return op.emitOpError() << "has " << numExperts
                            << " experts; the CUDA permute handles at most "
                            << kMaxPermuteExperts;
  if (hidden % vec != 0)
    return op.emitOpError() << "has rows of " << hidden << " elements; the "
                            << "CUDA permute copies 16-byte vectors, so the "
                               "hidden size must be a multiple of "
                            << vec;
  bool capacity = op.getCapacityFactor().has_value();
  bool byProbs = capacity && op.getDropPolicy() == DropPolicy::probs;
  const char *policy = !capacity ? "None" : byProbs ? "Probs" : "Position";
  std::string spec = ctx.prefix + "_spec";
  std::string wsType = "moe::cuda::PermuteWorkspace<" + spec + ">";
  emitc::VerbatimOp::create(
      m, llvm::formatv("using {0} = moe::cuda::PermuteSpec<{1}, {2}, {3}, {4}, "
                       "moe::cuda::DropPolicy::{5}>;",
                       spec, cElementType(elem), numExperts, k, hidden, policy)
             .str());
  Type ws = opaque(mctx, wsType);
  std::string bounds = "__launch_bounds__(" + spec + "::BlockSize)";
  std::string rank = ctx.prefix + "_rank", scan = ctx.prefix + "_scan",
              place = ctx.prefix + "_place", select = ctx.prefix + "_select",
              fused = ctx.prefix + "_fused_place",
              gather = ctx.prefix + "_gather";
  emitKernel(m, rank, {constPointer(mctx, i32), i64, ws},
             "moe::cuda::permuteRankBody", {spec}, bounds);
  emitKernel(m, scan, {i64, f32, ws, pointer(mctx, i32)},
             "moe::cuda::permuteScanBody", {spec},
             "__launch_bounds__(" + spec + "::ScanThreads)");
  emitKernel(m, place,
             {i64, f32, constPointer(mctx, i32), ws, constPointer(mctx, i32),
              pointer(mctx, i32)},
             "moe::cuda::permutePlaceBody", {spec}, bounds);
  emitKernel(m, fused,
             {i64, f32, constPointer(mctx, i32), ws, pointer(mctx, i32),
              pointer(mctx, i32)},
             "moe::cuda::permuteFusedPlaceBody", {spec}, bounds);
  if (byProbs)
    emitKernel(m, select,
               {i64, f32, constPointer(mctx, f32), ws, constPointer(mctx, i32),
                pointer(mctx, i32)},
               "moe::cuda::permuteSelectBody", {spec}, bounds);
  // Rows the expert GEMM gathers itself are not copied here.
  bool gathered = ctx.gatheredRows(op.getRows()).has_value();
  if (!gathered)
    emitKernel(m, gather,
               {constPointer(mctx, elem), i64, ws, constPointer(mctx, i32),
                constPointer(mctx, i32), pointer(mctx, elem)},
               "moe::cuda::permuteGatherBody", {spec}, bounds);

  Value input = ctx.bufferOf(op.getInput());
  Value ids = ctx.bufferOf(op.getIds());
  Value weights = ctx.bufferOf(op.getWeights());
  Value rows = gathered
                   ? emitc::LiteralOp::create(b, pointer(mctx, elem), "nullptr")
                   : ctx.bufferOf(op.getRows());
  Value rowMap = ctx.bufferOf(op.getRowMap());
  Value offsets = ctx.bufferOf(op.getOffsets());
  if (!input || !ids || !weights || !rows || !rowMap || !offsets)
    return missingBuffers(op);
  Value err = emitc::CallOpaqueOp::create(
                  b, opaque(mctx, "cudaError_t"), "moe::cuda::checkPermute",
                  ValueRange{input, rows, ctx.numTokens}, ArrayAttr{},
                  b.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}))
                  .getResult(0);
  emitReturnOnError(b, err);
  std::string wsName = ctx.prefix + "_ws";
  // localRank, blockCount, total, rowToken, [segment] (see permuteScratch).
  SmallVector<Value> wsParts = {ctx.scratch(0), ctx.scratch(1), ctx.scratch(2)};
  if (byProbs)
    wsParts.push_back(ctx.scratch(4));
  wsParts.push_back(ctx.scratch(3));
  emitGuard(b,
            "const " + wsType + " " + wsName + " = {{{}, {}, {}, " +
                (byProbs ? "{}" : "nullptr") + ", {}};",
            wsParts);
  Value wsValue = emitc::LiteralOp::create(b, ws, wsName);
  float cfValue = capacity ? op.getCapacityFactor()->convertToFloat() : 0.0f;
  Value cf = emitc::ConstantOp::create(b, f32, FloatAttr::get(f32, cfValue));

  // Ranks within blocks, then the per-expert scan (always: it writes the
  // offsets, zeros for no tokens), the placement, the selection of the
  // probs policy and the row copies.
  std::string blocksName = ctx.prefix + "_blocks";
  emitGuard(b,
            "const int64_t " + blocksName + " = moe::cuda::rankBlocks<" + spec +
                ">({});",
            ctx.numTokens);
  emitLaunch(b, rank, emitc::LiteralOp::create(b, i64, blocksName),
             spec + "::BlockSize", ctx.stream, {ids, ctx.numTokens, wsValue});
  // Few rank blocks: scan and place in one kernel; else (or for an empty
  // batch, whose offsets the scan zeroes) the two. The unused launches get
  // grid 0 and launch nothing.
  std::string few = "(" + blocksName + " > 0 && " + blocksName + " <= " + spec +
                    "::FusedPlaceBlocks)";
  emitLaunch(
      b, fused,
      emitc::LiteralOp::create(b, i64, few + " ? " + blocksName + " : 0"),
      spec + "::BlockSize", ctx.stream,
      {ctx.numTokens, cf, ids, wsValue, offsets, rowMap});
  emitLaunch(b, scan, emitc::LiteralOp::create(b, i64, few + " ? 0 : 1"),
             spec + "::ScanThreads", ctx.stream,
             {ctx.numTokens, cf, wsValue, offsets});
  std::string slots = slotsExpr(k);
  Value placeGrid = emitGrid(b, place, spec + "::BlockSize",
                             few + " ? 0 : moe::cuda::divUp(" + slots + ", " +
                                 spec + "::BlockSize)");
  emitLaunch(b, place, placeGrid, spec + "::BlockSize", ctx.stream,
             {ctx.numTokens, cf, ids, wsValue, offsets, rowMap});
  if (byProbs)
    emitLaunch(
        b, select,
        emitc::LiteralOp::create(
            b, i64,
            llvm::formatv("({0} > 0 ? {1} : 0)", kTokens, numExperts).str()),
        spec + "::BlockSize", ctx.stream,
        {ctx.numTokens, cf, weights, wsValue, offsets, rowMap});
  if (gathered)
    return success();
  Value gatherGrid =
      emitGrid(b, gather, spec + "::BlockSize",
               "moe::cuda::gatherBlocks<" + spec + ">(" + kTokens + ")");
  emitLaunch(b, gather, gatherGrid, spec + "::BlockSize", ctx.stream,
             {input, ctx.numTokens, wsValue, offsets, rowMap, rows});
  return success();
}

LogicalResult mlir::moe::emitcuda::emitCombine(Operation *operation,
                                               LaunchContext &ctx) {
  auto op = cast<CombineOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  Type i32 = m.getI32Type(), i64 = m.getI64Type(), f32 = m.getF32Type();
  RankedTensorType rowsType = op.getExpertOut().getType();
  Type elem = rowsType.getElementType();
  int64_t k = op.getRowMap().getType().getDimSize(1);
  int64_t hidden = rowsType.getDimSize(1);
  if (hidden % 8 != 0)
    return op.emitOpError() << "has rows of " << hidden
                            << " elements; the CUDA combine works on 8 "
                               "elements per thread, so the hidden size must "
                               "be a multiple of 8";
  if (k > kMaxCombineSlots)
    return op.emitOpError() << "has " << k
                            << " slots per token; the CUDA combine handles at "
                               "most "
                            << kMaxCombineSlots;
  bool hasShared = static_cast<bool>(op.getShared());
  std::string spec = ctx.prefix + "_spec";
  emitc::VerbatimOp::create(
      m, llvm::formatv(
             "using {0} = moe::cuda::CombineSpec<{1}, {2}, {3}, {4}>;", spec,
             cElementType(elem), k, hidden, hasShared ? "true" : "false")
             .str());
  emitKernel(m, ctx.prefix,
             {constPointer(mctx, elem), i64, constPointer(mctx, i32),
              constPointer(mctx, f32), constPointer(mctx, elem), i64,
              pointer(mctx, elem)},
             "moe::cuda::combineBody", {spec},
             "__launch_bounds__(" + spec + "::BlockSize)");

  Value rows = ctx.bufferOf(op.getExpertOut());
  Value rowMap = ctx.bufferOf(op.getRowMap());
  Value weights = ctx.bufferOf(op.getWeights());
  Value shared = hasShared ? ctx.bufferOf(op.getShared()) : Value();
  Value out = ctx.bufferOf(op.getOutput());
  if (!rows || !rowMap || !weights || !out || (hasShared && !shared))
    return missingBuffers(op);
  if (!shared)
    shared = emitc::LiteralOp::create(b, constPointer(mctx, elem), "nullptr");
  // Rows of expert_out: static, or T*K (what moe.permute produces).
  std::string numRows = ctx.prefix + "_rows";
  // A function argument holds T*K rows (what a permute makes).
  emitGuard(
      b, "const int64_t " + numRows + " = " +
             (isa<BlockArgument>(op.getExpertOut()) && rowsType.isDynamicDim(0)
                  ? slotsExpr(k)
                  : rowsExprOf(op.getExpertOut())) +
             ";");
  Value numRowsValue = emitc::LiteralOp::create(b, i64, numRows);
  Value err = emitc::CallOpaqueOp::create(
                  b, opaque(mctx, "cudaError_t"), "moe::cuda::checkCombine",
                  ValueRange{rows, shared, out}, ArrayAttr{}, ArrayAttr{})
                  .getResult(0);
  emitReturnOnError(b, err);
  Value grid =
      emitGrid(b, ctx.prefix, spec + "::BlockSize",
               "moe::cuda::combineBlocks<" + spec + ">(" + kTokens + ")");
  emitLaunch(b, ctx.prefix, grid, spec + "::BlockSize", ctx.stream,
             {rows, numRowsValue, rowMap, weights, shared, ctx.numTokens, out});
  return success();
}
