//===- FuseRouting.cpp - score + route (+ counts, losses) into one op -----===//

#include "moe/Dialect/Moe/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <numeric>

namespace mlir::moe {
#define GEN_PASS_DEF_MOEFUSEROUTING
#include "moe/Dialect/Moe/Transforms/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {
/// The statistics a set of balance losses needs from the routing pass, or
/// none when they cannot share one set.
std::optional<BalanceLossAttr> sharedStats(ArrayRef<BalanceLossAttr> configs) {
  if (configs.empty())
    return std::nullopt;
  BalanceLossAttr first = configs.front();
  bool normalized = first.getKind() == LossKind::sequence;
  int64_t devices = 0;
  for (BalanceLossAttr c : configs) {
    if ((c.getKind() == LossKind::sequence) != normalized ||
        c.getCounts() != first.getCounts() ||
        c.getSeqLen() != first.getSeqLen())
      return std::nullopt;
    if (c.getDevices()) {
      if (devices && devices != c.getDevices())
        return std::nullopt;
      devices = c.getDevices();
    }
  }
  // The statistics key: q normalised or not, the count source, the sequence
  // length and the devices (the kind only chooses the reduction, alpha is
  // not used).
  LossKind kind = normalized ? LossKind::sequence
                  : devices  ? LossKind::device
                             : LossKind::expert;
  return BalanceLossAttr::get(first.getContext(), kind, APFloat(0.0f),
                              first.getCounts(), first.getSeqLen(), devices,
                              /*deviceLimit=*/0);
}

struct FuseRoute : OpRewritePattern<RouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouteOp route,
                                PatternRewriter &rewriter) const override {
    Value input = route.getScores();
    auto score = input.getDefiningOp<ScoreOp>();

    // All counts of the routed ids become one result of the fused op.
    SmallVector<ExpertCountsOp> countOps;
    for (Operation *user : route.getIds().getUsers())
      if (auto counts = dyn_cast<ExpertCountsOp>(user))
        if (counts.getCounts().getType().getDimSize(0) == route.getNumExperts())
          countOps.push_back(counts);

    if (score && succeeded(fuseWithLosses(route, score, countOps, rewriter)))
      return success();

    // The score fuses in when the route is its only consumer; otherwise the
    // scores are needed anyway and the route reads them.
    ScoreFuncAttr func;
    if (score && score->hasOneUse()) {
      input = score.getLogits();
      func = score.getFuncAttr();
    }
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

  /// score -> route with balance losses (and gradients) of the same scores:
  /// one moe.fused_route_stats; the losses become reductions of its
  /// statistics, the gradients one pass over the logits.
  LogicalResult fuseWithLosses(RouteOp route, ScoreOp score,
                               ArrayRef<ExpertCountsOp> countOps,
                               PatternRewriter &rewriter) const {
    SmallVector<BalanceLossOp> losses;
    SmallVector<BalanceLossGradOp> grads;
    SmallVector<BalanceLossAttr> configs;
    for (Operation *user : score->getUsers()) {
      if (user == route)
        continue;
      auto usesRoute = [&](Value ids, BalanceLossAttr config) {
        return config.getCounts() == CountSource::topk || ids == route.getIds();
      };
      // The fused op takes the route's place: consumers must come after it.
      if (user->getBlock() != route->getBlock() ||
          !route->isBeforeInBlock(user))
        return failure();
      int64_t k = route.getKAttr().getInt();
      if (auto loss = dyn_cast<BalanceLossOp>(user)) {
        if (!usesRoute(loss.getIds(), loss.getConfig()) ||
            loss.getIds().getType().getDimSize(1) != k)
          return failure();
        losses.push_back(loss);
        configs.push_back(loss.getConfig());
      } else if (auto grad = dyn_cast<BalanceLossGradOp>(user)) {
        if (!usesRoute(grad.getIds(), grad.getConfig()) ||
            grad.getFunc() != score.getFunc() ||
            grad.getIds().getType().getDimSize(1) != k)
          return failure();
        grads.push_back(grad);
        configs.push_back(grad.getConfig());
      } else {
        return failure();
      }
    }
    std::optional<BalanceLossAttr> stats = sharedStats(configs);
    if (!stats)
      return failure();

    // Statistics rows of `chunk` tokens; a chunk must not straddle
    // sequences, and 64 tokens keep the extra bytes a few percent.
    int64_t seqLen = stats->getSeqLen();
    int64_t chunk = seqLen ? std::gcd(seqLen, int64_t(64)) : 64;
    int64_t numExperts = route.getNumExperts();
    int64_t numTokens = score.getLogits().getType().getDimSize(0);
    int64_t rows = ShapedType::isDynamic(numTokens)
                       ? ShapedType::kDynamic
                       : (numTokens + chunk - 1) / chunk;
    auto statsType = RankedTensorType::get(
        {rows, 2 * numExperts + stats->getDevices()}, rewriter.getF32Type());
    auto countsType =
        RankedTensorType::get({numExperts}, rewriter.getI32Type());
    auto fused = FusedRouteStatsOp::create(
        rewriter, route.getLoc(),
        TypeRange{route.getIds().getType(), route.getWeights().getType(),
                  countsType, statsType},
        score.getLogits(), route.getBias(), score.getFuncAttr(),
        route.getKAttr(), route.getGroupsAttr(), route.getGroupTopkAttr(),
        route.getGroupScoreAttr(), route.getNormalizeAttr(),
        route.getScaleAttr(), *stats, rewriter.getI64IntegerAttr(chunk));

    auto reduce = [&](Location loc, BalanceLossAttr config) {
      int64_t seqs = ShapedType::isDynamic(numTokens)
                         ? ShapedType::kDynamic
                         : (config.getSeqLen() ? numTokens / config.getSeqLen()
                                               : (numTokens > 0 ? 1 : 0));
      auto gType =
          RankedTensorType::get({seqs, numExperts}, rewriter.getF32Type());
      return LossFromStatsOp::create(
          rewriter, loc,
          TypeRange{RankedTensorType::get({}, rewriter.getF32Type()), gType},
          fused.getStats(), config, route.getKAttr(),
          rewriter.getI64IntegerAttr(chunk));
    };
    for (BalanceLossOp loss : losses) {
      rewriter.setInsertionPoint(loss);
      rewriter.replaceOp(loss,
                         reduce(loss.getLoc(), loss.getConfig()).getLoss());
    }
    for (BalanceLossGradOp grad : grads) {
      rewriter.setInsertionPoint(grad);
      Value g = reduce(grad.getLoc(), grad.getConfig()).getWeights();
      rewriter.replaceOpWithNewOp<FusedLossGradOp>(
          grad, grad.getType(), grad.getFuncAttr(), score.getLogits(), g,
          grad.getConfig());
    }
    for (ExpertCountsOp counts : countOps)
      rewriter.replaceOp(counts, fused.getCounts());
    rewriter.replaceOp(route, {fused.getIds(), fused.getWeights()});
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
