//===- ExpandLayer.cpp - moe.layer into primitive ops ---------------------===//

#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEEXPANDLAYER
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {
struct ExpandLayer : OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto xType = op.getInput().getType();
    int64_t numTokens = xType.getDimSize(0), hidden = xType.getDimSize(1);
    int64_t numExperts = op.getNumExperts(), k = op.getK();
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    auto scoresType = RankedTensorType::get({numTokens, numExperts}, f32);
    auto idsType = RankedTensorType::get({numTokens, k}, i32);
    auto weightsType = RankedTensorType::get({numTokens, k}, f32);

    // Routing, the logits in the layer's precision.
    auto logitsType =
        RankedTensorType::get({numTokens, numExperts},
                              op.getLogits().value_or(rewriter.getF32Type()));
    Value logits = GateOp::create(rewriter, loc, logitsType, op.getInput(),
                                  op.getRouter());
    Value scores = ScoreOp::create(rewriter, loc, scoresType,
                                   op.getScoreFuncAttr(), logits);
    auto route = RouteOp::create(
        rewriter, loc, idsType, weightsType, scores, op.getBias(),
        op.getKAttr(), op.getGroupsAttr(), op.getGroupTopkAttr(),
        op.getGroupScoreAttr(), op.getNormalizeAttr(), op.getScaleAttr());
    // The placement the routing serves, for moe-plan-dispatch.
    if (TopologyAttr topology = op.getTopologyAttr())
      route->setAttr(kTopologyAttrName, topology);

    // Auxiliary losses, in the order of the `losses` attribute.
    SmallVector<Value> results;
    SmallVector<Value> losses;
    if (ArrayAttr configs = op.getLossesAttr())
      for (auto [config, result] : llvm::zip_equal(
               configs.getAsRange<BalanceLossAttr>(), op.getAuxLosses()))
        losses.push_back(BalanceLossOp::create(rewriter, loc, result.getType(),
                                               scores, route.getIds(), config));

    // Dispatch, experts, combine. FP8 quantises the input once, for the
    // routed and the shared experts, and the rows travel as e4m3 + scales.
    int64_t numRows =
        ShapedType::isDynamic(numTokens) ? ShapedType::kDynamic : numTokens * k;
    Value rowsSource = op.getInput(), sourceScales;
    Type rowElement = xType.getElementType();
    RankedTensorType rowScalesType;
    if (op.isFP8()) {
      rowElement = op.getGateUp().getType().getElementType();
      int64_t groups = hidden / kFP8Block;
      auto quantize = QuantizeOp::create(
          rewriter, loc, RankedTensorType::get({numTokens, hidden}, rowElement),
          RankedTensorType::get({numTokens, groups}, f32), op.getInput(),
          rewriter.getI64IntegerAttr(kFP8Block), op.getUe8m0Attr());
      rowsSource = quantize.getValues();
      sourceScales = quantize.getScales();
      rowScalesType = RankedTensorType::get({numRows, groups}, f32);
    }
    auto rowsType = RankedTensorType::get({numRows, hidden}, rowElement);
    auto outRowsType =
        RankedTensorType::get({numRows, hidden}, xType.getElementType());
    auto offsetsType = RankedTensorType::get({numExperts + 1}, i32);
    auto permute = PermuteOp::create(
        rewriter, loc, rowsType, idsType, offsetsType, rowScalesType,
        rowsSource, sourceScales, route.getIds(), route.getWeights(),
        op.getCapacityFactorAttr(), op.getDropPolicyAttr());
    Value expertOut = ExpertFFNOp::create(
        rewriter, loc, outRowsType, permute.getRows(), permute.getRowScales(),
        permute.getOffsets(), op.getGateUp(), op.getDown(),
        op.getGateUpScales(), op.getDownScales(), op.getUe8m0Attr());
    Value shared;
    if (op.getSharedGateUp())
      shared = ExpertFFNOp::create(
          rewriter, loc, xType, rowsSource, sourceScales, Value(),
          op.getSharedGateUp(), op.getSharedDown(), op.getSharedGateUpScales(),
          op.getSharedDownScales(), op.getUe8m0Attr());
    Value output =
        CombineOp::create(rewriter, loc, op.getOutput().getType(), expertOut,
                          permute.getRowMap(), route.getWeights(), shared);

    results.push_back(output);
    results.append(losses);
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct MoeExpandLayerPass : moe::impl::MoeExpandLayerBase<MoeExpandLayerPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandLayerPatterns(patterns);
    // Expansion only creates ops that do not match again: one walk suffices.
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};
} // namespace

void mlir::moe::populateExpandLayerPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandLayer>(patterns.getContext());
}
