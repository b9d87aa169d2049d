//===- FuseRouting.cpp - score + route (+ counts) into moe.fused_route ----===//

#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MOEFUSEROUTING
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {
struct FuseRoute : OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouteOp route,
                                PatternRewriter &rewriter) const override {
    // The score fuses in when the route is its only consumer; otherwise the
    // scores are needed anyway and the route reads them.
    Value input = route.getScores();
    ScoreFuncAttr func;
    auto score = input.getDefiningOp<ScoreOp>();
    if (score && score->hasOneUse()) {
      input = score.getLogits();
      func = score.getFuncAttr();
    }

    // All counts of the routed ids become one result of the fused op.
    SmallVector<ExpertCountsOp> countOps;
    for (Operation *user : route.getIds().getUsers())
      if (auto counts = dyn_cast<ExpertCountsOp>(user))
        if (counts.getCounts().getType().getDimSize(0) == route.getNumExperts())
          countOps.push_back(counts);
    Type countsType =
        countOps.empty() ? Type() : countOps.front().getCounts().getType();

    SmallVector<Type> resultTypes = {route.getIds().getType(),
                                     route.getWeights().getType()};
    if (countsType)
      resultTypes.push_back(countsType);
    auto fused = FusedRouteOp::create(
        rewriter, route.getLoc(), resultTypes, input, route.getBias(), func,
        route.getKAttr(), route.getGroupsAttr(), route.getGroupTopkAttr(),
        route.getGroupScoreAttr(), route.getNormalizeAttr(),
        route.getScaleAttr());
    for (ExpertCountsOp counts : countOps)
      rewriter.replaceOp(counts, fused.getCounts());
    rewriter.replaceOp(route, {fused.getIds(), fused.getWeights()});
    if (score && score->use_empty())
      rewriter.eraseOp(score);
    return success();
  }
};

struct MoeFuseRoutingPass : moe::impl::MoeFuseRoutingBase<MoeFuseRoutingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRoute>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
