//===- GemmToEmitC.cpp - tile maps, grouped GEMMs, zeroed tails -----------===//
//
// moegpu.grouped_gemm becomes the GEMM its configuration names: the wgmma
// kernel of ExpertsSm90.cuh with the tiling and stages of the attribute and
// the split count of its split-K regimes evaluated on the rows, or the
// mma.sync kernel of Experts.cuh. The tile map and the zeroing of unowned
// rows are the one-block and grid-stride kernels of Experts.cuh.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moegpu;
using namespace mlir::moegpu::emitcuda;
namespace limits = ::moe::limits;

static ShapedType shapeOf(Value v) { return cast<ShapedType>(v.getType()); }

namespace {
struct TileMapToEmitC : KernelToEmitC<TileMapOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(TileMapOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type i32 = b.getI32Type(), i64 = b.getI64Type();
    std::string threads = std::to_string(limits::GemmTileMapThreads);
    emitKernel(m, site.prefix,
               {constPointer(ctx, i32), i64,
                emitc::PointerType::get(opaque(ctx, "moe::cuda::RowTile")), i32,
                i32},
               "moe::cuda::rowTilesBody", {std::to_string(op.getExperts())},
               "__launch_bounds__(" + threads + ")");
    Value offsets = adaptor.getOffsets() ? adaptor.getOffsets()
                                         : emitNull(b, constPointer(ctx, i32));
    Value tiles =
        emitPointerCast(b, adaptor.getInits()[0], "moe::cuda::RowTile");
    Value rowTile =
        emitc::LiteralOp::create(b, i32, std::to_string(op.getRowTile()));
    Value chunk =
        emitc::LiteralOp::create(b, i32, std::to_string(op.getChunk()));
    emitLaunch(b, site.prefix, emitI64(b, "1"), threads, site.stream,
               {offsets, adaptor.getRows(), tiles, rowTile, chunk});
    return success();
  }
};

struct GroupedGemmToEmitC : KernelToEmitC<GroupedGemmOp> {
  using KernelToEmitC::KernelToEmitC;

  /// The split count of the rows: the regimes as nested conditionals.
  static Value splitsOf(ImplicitLocOpBuilder &b, RegimesAttr table,
                        Value rows) {
    Type i64 = b.getI64Type();
    Value result = emitI64(b, std::to_string(table.getOtherwise()));
    for (int64_t i = table.getBounds().size() - 1; i >= 0; --i) {
      Value within = emitc::CmpOp::create(
          b, b.getI1Type(), emitc::CmpPredicate::le, rows,
          emitI64(b, std::to_string(table.getBounds()[i])));
      result = emitc::ConditionalOp::create(
          b, i64, within, emitI64(b, std::to_string(table.getValues()[i])),
          result);
    }
    return result;
  }

  LogicalResult emit(GroupedGemmOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type in = shapeOf(op.getA()).getElementType();
    Type out = shapeOf(op.getOutInit()).getElementType();
    GemmConfigAttr config = op.getConfig();
    std::string spec = site.prefix + "_spec";
    if (!op.isFP8())
      emitVerbatim(m, llvm::formatv("using {0} = moe::cuda::GemmSpec<{1}, "
                                    "{2}, {3}, {4}, {5}, {6}>;",
                                    spec, cElementType(in), cElementType(out),
                                    op.getNumExperts(), op.getN(), op.getK(),
                                    op.isDual() ? "true" : "false")
                          .str());
    Value rows = adaptor.getRows();
    Value aRows = adaptor.getARows() ? adaptor.getARows() : rows;
    Value rowToken = adaptor.getRowToken()
                         ? adaptor.getRowToken()
                         : emitNull(b, constPointer(ctx, b.getI32Type()));
    Value tiles =
        emitPointerCast(b, adaptor.getTiles(), "const moe::cuda::RowTile");
    ValueRange inits = adaptor.getInits();
    if (op.isFP8()) {
      // ExpertsFp8Sm90.cuh: the spec of its block-scaled GEMM, its stages.
      std::string fp8Spec = site.prefix + "_fp8_spec";
      emitVerbatim(m, llvm::formatv("using {0} = moe::cuda::Fp8GemmSpec<{1}, "
                                    "{2}, {3}, {4}, {5}, {6}>;",
                                    fp8Spec, cElementType(out),
                                    op.getNumExperts(), op.getN(), op.getK(),
                                    op.isDual() ? "true" : "false",
                                    config.getTileCols())
                          .str());
      emitCall(b, "moe::cuda::launchGemmFp8",
               ValueRange{rows, adaptor.getA(), adaptor.getAScales(),
                          adaptor.getWeight(), adaptor.getWScales(), tiles,
                          inits[0], site.stream},
               {}, {fp8Spec, std::to_string(config.getStages())});
      return success();
    }
    if (config.getFamily() == GemmFamily::mma_sync) {
      emitKernel(
          m, site.prefix,
          {constPointer(ctx, in), constPointer(ctx, in),
           emitc::PointerType::get(opaque(ctx, "const moe::cuda::RowTile")),
           pointer(ctx, out), constPointer(ctx, b.getI32Type())},
          "moe::cuda::groupedGemmBody", {spec},
          "__launch_bounds__(" + spec + "::Threads)");
      SmallVector<Attribute> args = {emitc::OpaqueAttr::get(ctx, site.prefix)};
      for (int64_t i = 0; i < 8; ++i)
        args.push_back(b.getIndexAttr(i));
      emitCall(b, "moe::cuda::launchGemmMma",
               ValueRange{rows, adaptor.getA(), aRows, rowToken,
                          adaptor.getWeight(), tiles, inits[0], site.stream},
               args, {spec});
      return success();
    }
    Value partial =
        inits.size() > 1 ? inits[1] : emitNull(b, pointer(ctx, b.getF32Type()));
    Value splits = config.getSplitK() ? splitsOf(b, config.getSplitK(), rows)
                                      : emitI64(b, "1");
    Value storeTma = emitc::LiteralOp::create(
        b, b.getI1Type(),
        config.getStore() == GemmStore::tma ? "true" : "false");
    emitCall(b, "moe::cuda::launchGemmWgmma",
             ValueRange{rows, adaptor.getA(), aRows, rowToken,
                        adaptor.getWeight(), tiles, inits[0], partial, splits,
                        storeTma, site.stream},
             {},
             {spec, std::to_string(config.getTileRows()),
              std::to_string(config.getStages())});
    return success();
  }
};

/// act_quant of rows (quantizeRowsKernel), gathering through the
/// permute's row_token where the op says so.
struct QuantizeToEmitC : KernelToEmitC<QuantizeOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(QuantizeOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &b = site.body;
    Type i32 = b.getI32Type();
    ShapedType input = shapeOf(op.getInput());
    Value rowToken = adaptor.getRowToken()
                         ? adaptor.getRowToken()
                         : emitNull(b, constPointer(ctx, i32));
    Value offsets = adaptor.getOffsets() ? adaptor.getOffsets()
                                         : emitNull(b, constPointer(ctx, i32));
    int64_t experts =
        op.getOffsets() ? shapeOf(op.getOffsets()).getDimSize(0) - 1 : 0;
    Value expertsValue =
        emitc::LiteralOp::create(b, i32, std::to_string(experts));
    Value values = emitPointerCast(b, adaptor.getInits()[0], "uint8_t");
    emitCall(b, "moe::cuda::launchQuantizeRows",
             ValueRange{adaptor.getInput(), rowToken, offsets, expertsValue,
                        adaptor.getRows(), values, adaptor.getInits()[1],
                        site.stream},
             {},
             {cElementType(input.getElementType()),
              std::to_string(input.getDimSize(1)),
              op.getUe8m0() ? "true" : "false"});
    return success();
  }
};

/// Rows [offsets[E], rows) of the output: zero.
struct ZeroTailToEmitC : KernelToEmitC<ZeroTailOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(ZeroTailOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    ShapedType out = shapeOf(op.getInits()[0]);
    Type elem = out.getElementType(), i32 = b.getI32Type();
    int64_t experts = shapeOf(op.getOffsets()).getDimSize(0) - 1;
    int64_t n = out.getDimSize(1);
    std::string threads = std::to_string(limits::ZeroTailBlockSize);
    emitKernel(m, site.prefix,
               {constPointer(ctx, i32), b.getI64Type(), pointer(ctx, elem)},
               "moe::cuda::zeroTailBody",
               {llvm::formatv("moe::cuda::ZeroTailSpec<{0}, {1}, {2}>",
                              cElementType(elem), experts, n)
                    .str()},
               "__launch_bounds__(" + threads + ")");
    // A thread stores a 16-byte vector per step.
    int64_t perVector =
        limits::VectorBytes / (out.getElementTypeBitWidth() / 8);
    Value elements = emitc::MulOp::create(b, b.getI64Type(), adaptor.getRows(),
                                          emitI64(b, std::to_string(n)));
    Value grid = emitGrid(
        b, site.prefix, threads,
        emitDivUp(b, elements,
                  std::to_string(limits::ZeroTailBlockSize * perVector)),
        op.getGrid() == GridPolicy::persistent);
    emitLaunch(
        b, site.prefix, grid, threads, site.stream,
        {adaptor.getOffsets(), adaptor.getRows(), adaptor.getInits()[0]});
    return success();
  }
};
} // namespace

void mlir::moegpu::populateGemmToEmitCPatterns(const TypeConverter &,
                                               RewritePatternSet &patterns,
                                               const KernelNames &names) {
  patterns.add<TileMapToEmitC, GroupedGemmToEmitC, QuantizeToEmitC,
               ZeroTailToEmitC>(patterns.getContext(), names);
}
