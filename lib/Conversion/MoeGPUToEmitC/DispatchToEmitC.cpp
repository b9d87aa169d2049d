//===- DispatchToEmitC.cpp - dispatch layout, permute, combine ------------===//
//
// Each op becomes specialisations of the bodies in
// include/moe/Runtime/cuda/Dispatch.cuh, launched on the launcher's stream
// with no host synchronisation: the permute's offsets and row map are made
// on the device and read there by the later kernels.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::moegpu;
using namespace mlir::moegpu::emitcuda;
using ::mlir::moe::DropPolicy;
using ::mlir::moe::TopologyAttr;

static ShapedType shapeOf(Value v) { return cast<ShapedType>(v.getType()); }

namespace {
/// A thread per token; counts by shared-memory atomics and warp ballots.
struct DispatchLayoutToEmitC : KernelToEmitC<DispatchLayoutOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(DispatchLayoutOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type i32 = b.getI32Type(), i64 = b.getI64Type(), i1 = b.getI1Type();
    TopologyAttr topo = op.getTopology();
    int64_t k = shapeOf(op.getIds()).getDimSize(1);
    std::string spec = site.prefix + "_spec";
    emitVerbatim(m,
                 llvm::formatv("using {0} = moe::cuda::LayoutSpec<{1}, {2}, "
                               "{3}, {4}>;",
                               spec, k, topo.getNodes(), topo.getGpusPerNode(),
                               topo.getExpertsPerGpu())
                     .str());
    emitKernel(m, site.prefix,
               {constPointer(ctx, i32), i64, pointer(ctx, i32),
                pointer(ctx, i32), pointer(ctx, i32), pointer(ctx, i1)},
               "moe::cuda::dispatchLayoutBody", {spec},
               "__launch_bounds__(" + spec + "::BlockSize)");
    ValueRange inits = adaptor.getInits();
    Value numTokens = adaptor.getNumTokens();
    Value grid = emitGrid(b, site.prefix, spec + "::BlockSize",
                          emitDivUp(b, numTokens, spec + "::TokensPerBlock"),
                          op.getGrid() == GridPolicy::persistent);
    // Several blocks add to zeroed counts; a single one writes them.
    emitCall(b, "moe::cuda::zeroLayoutCounts",
             ValueRange{grid, inits[0], inits[1], inits[2], site.stream}, {},
             {spec});
    emitLaunch(
        b, site.prefix, grid, spec + "::BlockSize", site.stream,
        {adaptor.getIds(), numTokens, inits[0], inits[1], inits[2], inits[3]});
    return success();
  }
};

/// Rank, [scan + place | fused place], [select], [gather].
struct PermuteToEmitC : KernelToEmitC<PermuteOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(PermuteOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
    Type elem = shapeOf(op.getInput()).getElementType();
    int64_t experts = op.getNumExperts(), k = op.getK();
    int64_t hidden = shapeOf(op.getInput()).getDimSize(1);
    bool capacity = op.getCapacityFactor().has_value();
    bool byProbs = op.hasSegment();
    bool persistent = op.getGrid() == GridPolicy::persistent;
    const char *policy = !capacity ? "None" : byProbs ? "Probs" : "Position";
    std::string spec = site.prefix + "_spec";
    std::string wsType = "moe::cuda::PermuteWorkspace<" + spec + ">";
    emitVerbatim(m, llvm::formatv("using {0} = moe::cuda::PermuteSpec<{1}, "
                                  "{2}, {3}, {4}, moe::cuda::DropPolicy::{5}>;",
                                  spec, cElementType(elem), experts, k, hidden,
                                  policy)
                        .str());
    Type ws = opaque(ctx, wsType);
    std::string bounds = "__launch_bounds__(" + spec + "::BlockSize)";
    std::string rank = site.prefix + "_rank", scan = site.prefix + "_scan",
                place = site.prefix + "_place",
                select = site.prefix + "_select",
                fused = site.prefix + "_fused_place",
                gather = site.prefix + "_gather";
    emitKernel(m, rank, {constPointer(ctx, i32), i64, ws},
               "moe::cuda::permuteRankBody", {spec}, bounds);
    emitKernel(m, scan, {i64, f32, ws, pointer(ctx, i32)},
               "moe::cuda::permuteScanBody", {spec},
               "__launch_bounds__(" + spec + "::ScanThreads)");
    emitKernel(m, place,
               {i64, f32, constPointer(ctx, i32), ws, constPointer(ctx, i32),
                pointer(ctx, i32)},
               "moe::cuda::permutePlaceBody", {spec}, bounds);
    emitKernel(m, fused,
               {i64, f32, constPointer(ctx, i32), ws, pointer(ctx, i32),
                pointer(ctx, i32)},
               "moe::cuda::permuteFusedPlaceBody", {spec}, bounds);
    if (byProbs)
      emitKernel(m, select,
                 {i64, f32, constPointer(ctx, f32), ws, constPointer(ctx, i32),
                  pointer(ctx, i32)},
                 "moe::cuda::permuteSelectBody", {spec}, bounds);
    // Rows the expert GEMM gathers itself are not copied here.
    bool copies = !op.getDeferredGather();
    if (copies)
      emitKernel(m, gather,
                 {constPointer(ctx, elem), i64, ws, constPointer(ctx, i32),
                  constPointer(ctx, i32), pointer(ctx, elem)},
                 "moe::cuda::permuteGatherBody", {spec}, bounds);

    // Inits: row_map, offsets, row_token, local_rank, block_counts,
    // totals, [segment], [rows].
    ValueRange inits = adaptor.getInits();
    Value rowMap = inits[0], offsets = inits[1], rowToken = inits[2];
    Value segment = byProbs ? inits[6] : Value();
    Value rows = copies ? inits.back() : emitNull(b, pointer(ctx, elem));
    Value input = adaptor.getInput(), ids = adaptor.getIds();
    Value numTokens = adaptor.getNumTokens();
    emitCall(b, "moe::cuda::checkPermute", ValueRange{input, rows, numTokens},
             {}, {spec});
    std::string wsName = site.prefix + "_ws";
    SmallVector<Value> wsParts = {inits[3], inits[4], inits[5]};
    if (segment)
      wsParts.push_back(segment);
    wsParts.push_back(rowToken);
    emitVerbatim(b,
                 "const " + wsType + " " + wsName + " = {{{}, {}, {}, " +
                     (segment ? "{}" : "nullptr") + ", {}};",
                 wsParts);
    Value wsValue = emitc::LiteralOp::create(b, ws, wsName);
    float cfValue = capacity ? op.getCapacityFactor()->convertToFloat() : 0.0f;
    Value cf = emitc::ConstantOp::create(b, f32, FloatAttr::get(f32, cfValue));

    // Ranks within blocks, then the per-expert scan (always: it writes the
    // offsets, zeros for no tokens), the placement, the selection of the
    // probs policy and the row copies. Up to fused_place_blocks rank blocks
    // scan and place in one kernel; the launches not taken get grid 0.
    std::string blocks = site.prefix + "_blocks";
    emitVerbatim(b,
                 "const int64_t " + blocks + " = moe::cuda::rankBlocks<" +
                     spec + ">({});",
                 numTokens);
    emitLaunch(b, rank, emitI64(b, blocks), spec + "::BlockSize", site.stream,
               {ids, numTokens, wsValue});
    std::string few = llvm::formatv("({0} > 0 && {0} <= {1})", blocks,
                                    op.getFusedPlaceBlocksAttr().getInt())
                          .str();
    emitLaunch(b, fused, emitI64(b, few + " ? " + blocks + " : 0"),
               spec + "::BlockSize", site.stream,
               {numTokens, cf, ids, wsValue, offsets, rowMap});
    emitLaunch(b, scan, emitI64(b, few + " ? 0 : 1"), spec + "::ScanThreads",
               site.stream, {numTokens, cf, wsValue, offsets});
    std::string slots = site.prefix + "_slots";
    emitVerbatim(
        b, llvm::formatv("const int64_t {0} = {{} * {1};", slots, k).str(),
        numTokens);
    Value placeWanted = emitI64(b, few + " ? 0 : moe::cuda::divUp(" + slots +
                                       ", " + spec + "::BlockSize)");
    Value placeGrid =
        emitGrid(b, place, spec + "::BlockSize", placeWanted, persistent);
    emitLaunch(b, place, placeGrid, spec + "::BlockSize", site.stream,
               {numTokens, cf, ids, wsValue, offsets, rowMap});
    if (byProbs) {
      Value selectGrid = emitc::ConditionalOp::create(
          b, i64,
          emitc::CmpOp::create(b, b.getI1Type(), emitc::CmpPredicate::gt,
                               numTokens, emitI64(b, "0")),
          emitI64(b, std::to_string(experts)), emitI64(b, "0"));
      emitLaunch(
          b, select, selectGrid, spec + "::BlockSize", site.stream,
          {numTokens, cf, adaptor.getWeights(), wsValue, offsets, rowMap});
    }
    if (!copies)
      return success();
    Value gatherWanted =
        emitc::CallOpaqueOp::create(
            b, i64, "moe::cuda::gatherBlocks", numTokens, ArrayAttr(),
            b.getArrayAttr({emitc::OpaqueAttr::get(ctx, spec)}))
            .getResult(0);
    Value gatherGrid =
        emitGrid(b, gather, spec + "::BlockSize", gatherWanted, persistent);
    emitLaunch(b, gather, gatherGrid, spec + "::BlockSize", site.stream,
               {input, numTokens, wsValue, offsets, rowMap, rows});
    return success();
  }
};

/// A block per token and chunk of columns; slots summed in order.
struct CombineToEmitC : KernelToEmitC<CombineOp> {
  using KernelToEmitC::KernelToEmitC;

  LogicalResult emit(CombineOp op, OpAdaptor adaptor,
                     KernelSite &site) const override {
    MLIRContext *ctx = op.getContext();
    ImplicitLocOpBuilder &m = site.module, &b = site.body;
    Type i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
    ShapedType rowsType = shapeOf(op.getExpertOut());
    Type elem = rowsType.getElementType();
    int64_t k = shapeOf(op.getRowMap()).getDimSize(1);
    bool hasShared = static_cast<bool>(op.getShared());
    std::string spec = site.prefix + "_spec";
    emitVerbatim(m, llvm::formatv("using {0} = moe::cuda::CombineSpec<{1}, "
                                  "{2}, {3}, {4}>;",
                                  spec, cElementType(elem), k,
                                  rowsType.getDimSize(1),
                                  hasShared ? "true" : "false")
                        .str());
    emitKernel(m, site.prefix,
               {constPointer(ctx, elem), i64, constPointer(ctx, i32),
                constPointer(ctx, f32), constPointer(ctx, elem), i64,
                pointer(ctx, elem)},
               "moe::cuda::combineBody", {spec},
               "__launch_bounds__(" + spec + "::BlockSize)");
    Value shared =
        hasShared ? adaptor.getShared() : emitNull(b, constPointer(ctx, elem));
    Value out = adaptor.getInits()[0];
    Value numTokens = adaptor.getNumTokens();
    emitCall(b, "moe::cuda::checkCombine",
             ValueRange{adaptor.getExpertOut(), shared, out});
    Value wanted =
        emitc::CallOpaqueOp::create(
            b, i64, "moe::cuda::combineBlocks", numTokens, ArrayAttr(),
            b.getArrayAttr({emitc::OpaqueAttr::get(ctx, spec)}))
            .getResult(0);
    Value grid = emitGrid(b, site.prefix, spec + "::BlockSize", wanted,
                          op.getGrid() == GridPolicy::persistent);
    emitLaunch(b, site.prefix, grid, spec + "::BlockSize", site.stream,
               {adaptor.getExpertOut(), adaptor.getRows(), adaptor.getRowMap(),
                adaptor.getWeights(), shared, numTokens, out});
    return success();
  }
};
} // namespace

void mlir::moegpu::populateDispatchToEmitCPatterns(const TypeConverter &,
                                                   RewritePatternSet &patterns,
                                                   const KernelNames &names) {
  patterns.add<DispatchLayoutToEmitC, PermuteToEmitC, CombineToEmitC>(
      patterns.getContext(), names);
}
