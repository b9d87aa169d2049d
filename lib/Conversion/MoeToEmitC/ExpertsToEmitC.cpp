//===- ExpertsToEmitC.cpp - router and expert GEMMs in CUDA ---------------===//
//
// moe.gate and moe.expert_ffn become the grouped GEMMs of
// include/moe/Runtime/cuda/Experts.cuh: a plan (wgmma kernels on sm_90
// devices, the portable mma.sync ones elsewhere, chosen at run time, with
// the row-tile size they need), a tile map from the expert offsets (on
// the device), then one GEMM (the router: a single "expert" with f32
// outputs) or two (gate/up with SiLU·mul, then down), and for routed
// experts the zeroing of the rows no expert owns. Gate/up reads a
// permute's rows from the permute's input when the permute leaves the copy
// to it (GatheredRows).
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
constexpr int64_t kRowTileBytes = 16;  // sizeof(moe::cuda::RowTile)
constexpr int64_t kRowTile = 128;      // GemmSpec::BM
constexpr int64_t kReductionStep = 32; // GemmSpec::BK
constexpr int64_t kDualColumns = 64;   // GemmSpec::OutCols for gate/up
constexpr int64_t kMaxGemmExperts = 1024;
} // namespace

std::string mlir::moe::emitcuda::rowsExprOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(0))
    return std::to_string(type.getDimSize(0));
  if (auto permute = value.getDefiningOp<PermuteOp>();
      permute && value == permute.getRows())
    return llvm::formatv("({0} * {1})", kTokens,
                         permute.getIds().getType().getDimSize(1))
        .str();
  if (auto ffn = value.getDefiningOp<ExpertFFNOp>())
    return rowsExprOf(ffn.getRows());
  return kTokens;
}

/// The f32 partial sums the wgmma path may split K into (gemmSplits of the
/// runtime): "splitRows(rows, K / 64, column tiles) * width" floats, or
/// nothing for shapes the wgmma kernel does not take (N in whole 128- or
/// 256-column tiles, K in 64-element steps).
static std::optional<std::string> splitFloats(StringRef rows, int64_t n,
                                              int64_t k, bool dual) {
  int64_t outCols = dual ? 128 : 256;
  if (n % outCols != 0 || k % 64 != 0)
    return std::nullopt;
  return llvm::formatv("moe::cuda::splitRows({0}, {1}, {2}) * {3}", rows,
                       k / 64, n / outCols, dual ? 2 * n : n)
      .str();
}

/// The partial sums of a router GEMM or a shared expert (gate/up and down
/// run one after the other and share them), if any of its GEMMs can split.
static std::optional<std::string> splitPartial(Operation *op) {
  if (auto gate = dyn_cast<GateOp>(op))
    return splitFloats(rowsExprOf(gate.getInput()),
                       gate.getWeight().getType().getDimSize(0),
                       gate.getInput().getType().getDimSize(1), false);
  auto ffn = cast<ExpertFFNOp>(op);
  if (ffn.getOffsets())
    return std::nullopt;
  std::string rows = rowsExprOf(ffn.getRows());
  int64_t hidden = ffn.getRows().getType().getDimSize(1);
  int64_t inter = ffn.getDown().getType().getDimSize(2);
  std::optional<std::string> up = splitFloats(rows, inter, hidden, true);
  std::optional<std::string> down = splitFloats(rows, hidden, inter, false);
  if (up && down)
    return "std::max<int64_t>(" + *up + ", " + *down + ")";
  return up ? up : down;
}

/// Tile slots of a grouped GEMM over `rows` rows and `experts` experts.
static std::string tileSlots(StringRef rows, int64_t experts) {
  return llvm::formatv("(moe::cuda::divUp({0}, {1}) + {2})", rows, kRowTile,
                       experts)
      .str();
}

SmallVector<Scratch> mlir::moe::emitcuda::gemmScratch(Operation *op) {
  MLIRContext *ctx = op->getContext();
  Type tile = opaque(ctx, "moe::cuda::RowTile");
  Type f32 = Float32Type::get(ctx);
  // Single-expert GEMMs (the router, the shared expert) have few tiles at
  // small T: where the wgmma kernel takes them they get f32 partial sums
  // to split K into (splitPartial).
  if (auto gate = dyn_cast<GateOp>(op)) {
    std::string rows = rowsExprOf(gate.getInput());
    SmallVector<Scratch> scratch = {
        Scratch{tile, tileSlots(rows, 1), kRowTileBytes}};
    if (std::optional<std::string> partial = splitPartial(gate))
      scratch.push_back(Scratch{f32, *partial, 4});
    return scratch;
  }
  auto ffn = cast<ExpertFFNOp>(op);
  int64_t experts = ffn.getGateUp().getType().getDimSize(0);
  int64_t inter = ffn.getDown().getType().getDimSize(2);
  Type elem = ffn.getRows().getType().getElementType();
  std::string rows = rowsExprOf(ffn.getRows());
  SmallVector<Scratch> scratch = {
      Scratch{tile, tileSlots(rows, experts), kRowTileBytes},
      Scratch{elem, rows, inter * (elem.getIntOrFloatBitWidth() / 8)}};
  if (std::optional<std::string> partial = splitPartial(ffn))
    scratch.push_back(Scratch{f32, *partial, 4});
  return scratch;
}

static LogicalResult missingBuffers(Operation *op) {
  return op->emitOpError(
      "needs its operands and results to have buffers (function arguments, "
      "returned values or values between kernels)");
}

static LogicalResult checkOperands(Operation *op, Type elem, int64_t k,
                                   int64_t experts) {
  if (!elem.isBF16())
    return op->emitOpError()
           << "has " << elem << " operands; the CUDA GEMMs take bf16";
  if (k % kReductionStep != 0)
    return op->emitOpError()
           << "reduces over " << k
           << " elements; the CUDA GEMMs need a multiple of " << kReductionStep;
  if (experts > kMaxGemmExperts)
    return op->emitOpError()
           << "has " << experts << " experts; the CUDA GEMMs handle at most "
           << kMaxGemmExperts;
  return success();
}

namespace {
/// Emits one grouped GEMM: spec, tile-map and GEMM kernels, their launches.
struct GemmEmitter {
  LaunchContext &ctx;
  MLIRContext *mctx;
  Value tiles;
  /// The name of the op's moe::cuda::GemmPlan.
  std::string plan = ctx.prefix + "_plan";

  /// `using name = GemmSpec<...>;` and the GEMM kernel.
  void declare(StringRef spec, StringRef kernel, Type in, Type out,
               int64_t experts, int64_t n, int64_t k, bool dual) {
    ImplicitLocOpBuilder &m = ctx.module;
    emitc::VerbatimOp::create(
        m, llvm::formatv("using {0} = moe::cuda::GemmSpec<{1}, {2}, {3}, {4}, "
                         "{5}, {6}>;",
                         spec, cElementType(in), cElementType(out), experts, n,
                         k, dual ? "true" : "false")
               .str());
    emitKernel(
        m, kernel,
        {constPointer(mctx, in), constPointer(mctx, in),
         emitc::PointerType::get(opaque(mctx, "const moe::cuda::RowTile")),
         pointer(mctx, out), constPointer(mctx, m.getI32Type())},
        "moe::cuda::groupedGemmBody", {spec.str()},
        "__launch_bounds__(" + spec.str() + "::Threads)");
  }

  /// The plan of the GEMMs `specs` (wgmma or portable path, row-tile
  /// size), then their tile map of `rows` rows from `offsets` (or none).
  void tileMap(ArrayRef<std::string> specs, StringRef kernel, Value offsets,
               Value rows) {
    ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
    emitKernel(m, kernel,
               {constPointer(mctx, m.getI32Type()), m.getI64Type(),
                emitc::PointerType::get(opaque(mctx, "moe::cuda::RowTile")),
                m.getI32Type()},
               "moe::cuda::rowTilesBody", {specs.front()},
               "__launch_bounds__(1024)");
    emitGuard(b, "moe::cuda::GemmPlan " + plan + ";");
    SmallVector<Attribute> templateArgs;
    for (const std::string &spec : specs)
      templateArgs.push_back(emitc::OpaqueAttr::get(mctx, spec));
    Value err = emitc::CallOpaqueOp::create(
                    b, opaque(mctx, "cudaError_t"), "moe::cuda::planGemms",
                    ValueRange{},
                    b.getArrayAttr({emitc::OpaqueAttr::get(mctx, "&" + plan)}),
                    b.getArrayAttr(templateArgs))
                    .getResult(0);
    emitReturnOnError(b, err);
    Value rowTile =
        emitc::LiteralOp::create(b, b.getI32Type(), plan + ".rowTile");
    emitLaunch(b, kernel, emitc::LiteralOp::create(b, b.getI64Type(), "1"),
               "1024", ctx.stream, {offsets, rows, tiles, rowTile});
  }

  /// The GEMM launch over `rows` rows as planned: the wgmma kernel or
  /// `kernel` (the portable one). Row r reads row r of `a`, or with
  /// `gather` row rowToken[r] of the permute's input. With `partial` (f32
  /// partial sums) the wgmma kernel may split K.
  void launch(StringRef spec, StringRef kernel, Value rows, Value a, Value w,
              Value out, std::optional<GatheredRows> gather = std::nullopt,
              Value partial = Value()) {
    ImplicitLocOpBuilder &b = ctx.body;
    SmallVector<Attribute> args = {emitc::OpaqueAttr::get(mctx, kernel),
                                   emitc::OpaqueAttr::get(mctx, plan)};
    for (int64_t i = 0; i < 9; ++i)
      args.push_back(b.getIndexAttr(i));
    if (!partial)
      partial =
          emitc::LiteralOp::create(b, pointer(mctx, b.getF32Type()), "nullptr");
    Value aRows = rows, rowSource;
    if (gather) {
      a = gather->input;
      aRows = emitc::LiteralOp::create(
          b, b.getI64Type(),
          rowsExprOf(cast<PermuteOp>(gather->permute).getInput()));
      rowSource = gather->rowToken;
    } else {
      rowSource = emitc::LiteralOp::create(
          b, constPointer(mctx, b.getI32Type()), "nullptr");
    }
    Value err =
        emitc::CallOpaqueOp::create(
            b, opaque(mctx, "cudaError_t"), "moe::cuda::launchGroupedGemm",
            ValueRange{rows, a, aRows, rowSource, w, tiles, out, partial,
                       ctx.stream},
            b.getArrayAttr(args),
            b.getArrayAttr({emitc::OpaqueAttr::get(mctx, spec)}))
            .getResult(0);
    emitReturnOnError(b, err);
  }
};
} // namespace

LogicalResult mlir::moe::emitcuda::emitGate(Operation *operation,
                                            LaunchContext &ctx) {
  auto op = cast<GateOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &b = ctx.body;
  RankedTensorType x = op.getInput().getType();
  int64_t numExperts = op.getWeight().getType().getDimSize(0);
  int64_t hidden = x.getDimSize(1);
  if (failed(checkOperands(op, x.getElementType(), hidden, 1)))
    return failure();
  Value input = ctx.bufferOf(op.getInput());
  Value weight = ctx.bufferOf(op.getWeight());
  Value logits = ctx.bufferOf(op.getLogits());
  if (!input || !weight || !logits)
    return missingBuffers(op);
  std::string spec = ctx.prefix + "_spec";
  GemmEmitter g{ctx, mctx, ctx.scratch(0)};
  g.declare(spec, ctx.prefix, x.getElementType(), b.getF32Type(), 1, numExperts,
            hidden, false);
  std::string rows = ctx.prefix + "_rows";
  emitGuard(b,
            "const int64_t " + rows + " = " + rowsExprOf(op.getInput()) + ";");
  Value rowsValue = emitc::LiteralOp::create(b, b.getI64Type(), rows);
  Value none = emitc::LiteralOp::create(b, constPointer(mctx, b.getI32Type()),
                                        "nullptr");
  g.tileMap({spec}, ctx.prefix + "_tiles", none, rowsValue);
  g.launch(spec, ctx.prefix, rowsValue, input, weight, logits, std::nullopt,
           splitPartial(op) ? ctx.scratch(1) : Value());
  return success();
}

LogicalResult mlir::moe::emitcuda::emitExpertFFN(Operation *operation,
                                                 LaunchContext &ctx) {
  auto op = cast<ExpertFFNOp>(operation);
  MLIRContext *mctx = op.getContext();
  ImplicitLocOpBuilder &m = ctx.module, &b = ctx.body;
  RankedTensorType rowsType = op.getRows().getType();
  Type elem = rowsType.getElementType();
  int64_t experts = op.getGateUp().getType().getDimSize(0);
  int64_t hidden = rowsType.getDimSize(1);
  int64_t inter = op.getDown().getType().getDimSize(2);
  if (failed(checkOperands(op, elem, hidden, experts)) ||
      failed(checkOperands(op, elem, inter, experts)))
    return failure();
  if (inter % kDualColumns != 0)
    return op.emitOpError()
           << "has an intermediate size of " << inter
           << "; the CUDA gate/up GEMM needs a multiple of " << kDualColumns;
  if (hidden % 8 != 0)
    return op.emitOpError() << "has rows of " << hidden
                            << " elements; the CUDA down GEMM needs a "
                               "multiple of 8";
  // Rows a permute leaves to this GEMM come from the permute's input.
  std::optional<GatheredRows> gathered = ctx.gatheredRows(op.getRows());
  Value rows = gathered ? gathered->input : ctx.bufferOf(op.getRows());
  Value gateUp = ctx.bufferOf(op.getGateUp());
  Value down = ctx.bufferOf(op.getDown());
  Value out = ctx.bufferOf(op.getOutput());
  Value offsets = op.getOffsets() ? ctx.bufferOf(op.getOffsets()) : Value();
  if (!rows || !gateUp || !down || !out || (op.getOffsets() && !offsets))
    return missingBuffers(op);
  Value hbuf = ctx.scratch(1);
  std::string up = ctx.prefix + "_up", dn = ctx.prefix + "_down";
  GemmEmitter g{ctx, mctx, ctx.scratch(0)};
  g.declare(up + "_spec", up, elem, elem, experts, inter, hidden, true);
  g.declare(dn + "_spec", dn, elem, elem, experts, hidden, inter, false);
  std::string numRows = ctx.prefix + "_rows";
  emitGuard(b, "const int64_t " + numRows + " = " + rowsExprOf(op.getRows()) +
                   ";");
  Value rowsValue = emitc::LiteralOp::create(b, b.getI64Type(), numRows);
  Value off = offsets ? offsets
                      : emitc::LiteralOp::create(
                            b, constPointer(mctx, b.getI32Type()), "nullptr");
  g.tileMap({up + "_spec", dn + "_spec"}, ctx.prefix + "_tiles", off,
            rowsValue);
  // The shared expert (no offsets) may split K into its partial sums.
  Value partial = splitPartial(op) ? ctx.scratch(2) : Value();
  g.launch(up + "_spec", up, rowsValue, rows, gateUp, hbuf, gathered, partial);
  g.launch(dn + "_spec", dn, rowsValue, hbuf, down, out, std::nullopt, partial);
  if (offsets) {
    // Rows past offsets[E] belong to no expert: zero.
    std::string zero = ctx.prefix + "_zero";
    emitKernel(m, zero,
               {constPointer(mctx, b.getI32Type()), b.getI64Type(),
                pointer(mctx, elem)},
               "moe::cuda::zeroTailBody", {dn + "_spec"},
               "__launch_bounds__(256)");
    Value grid = emitGrid(
        b, zero, "256",
        llvm::formatv("moe::cuda::divUp({0} * {1}, 256 * 8)", numRows, hidden)
            .str());
    emitLaunch(b, zero, grid, "256", ctx.stream, {offsets, rowsValue, out});
  }
  return success();
}
