//===- MoeOps.cpp - moe dialect operations --------------------------------===//
//
// Verifiers, folders and canonicalization patterns of the moe ops. Every rule
// is checked here with a message naming the attribute or operand and the rule,
// so that a bad configuration never reaches a lowering.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

static StringRef expectedKeywords(ScoreFunc) {
  return "'sigmoid' or 'softmax'";
}
static StringRef expectedKeywords(DropPolicy) {
  return "'probs' or 'position'";
}

/// An enum attribute as a bare keyword: `sigmoid`, `probs`.
template <typename EnumAttrT>
static ParseResult parseKeyword(OpAsmParser &parser, EnumAttrT &attr) {
  using EnumT = decltype(std::declval<EnumAttrT>().getValue());
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc) << "expected " << expectedKeywords(EnumT())
                                 << ", got '" << keyword << "'";
  attr = EnumAttrT::get(parser.getContext(), *value);
  return success();
}

template <typename EnumAttrT>
static void printKeyword(OpAsmPrinter &printer, Operation *, EnumAttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

static ParseResult parseGroupScore(OpAsmParser &parser, GroupScoreAttr &attr) {
  return parseGroupScoreBody(parser, attr);
}

static void printGroupScore(OpAsmPrinter &printer, Operation *,
                            GroupScoreAttr attr) {
  printGroupScoreBody(printer, attr);
}

#define GET_OP_CLASSES
#include "moe/Dialect/Moe/IR/MoeOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace {
/// A named operand or result dimension, for messages such as
/// "'weight' dim 1 (64) must equal 'input' dim 1 (128)".
struct Dim {
  StringRef name;
  ShapedType type;
  unsigned index;
  int64_t size() const { return type.getDimSize(index); }
};
} // namespace

static bool isStatic(int64_t size) { return !ShapedType::isDynamic(size); }

/// Two sizes agree unless both are static and differ.
static LogicalResult expectSameDim(Operation *op, Dim a, Dim b) {
  if (!isStatic(a.size()) || !isStatic(b.size()) || a.size() == b.size())
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                           << a.size() << ") must equal '" << b.name << "' dim "
                           << b.index << " (" << b.size() << ")";
}

/// A dimension must equal a value the op derives (unless it is dynamic and
/// `allowDynamic`).
static LogicalResult expectDimValue(Operation *op, Dim a, int64_t expected,
                                    StringRef what, bool allowDynamic = true) {
  if (!isStatic(a.size())) {
    if (allowDynamic || !isStatic(expected))
      return success();
    return op->emitOpError() << "'" << a.name << "' dim " << a.index
                             << " must be static (" << what << ")";
  }
  if (!isStatic(expected) || a.size() == expected)
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                           << a.size() << ") must equal " << what << " ("
                           << expected << ")";
}

static LogicalResult expectStaticDim(Operation *op, Dim a, StringRef what) {
  if (isStatic(a.size()))
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index
                           << " must be static (" << what << ")";
}

static LogicalResult expectSameElementType(Operation *op, StringRef aName,
                                           Type a, StringRef bName, Type b) {
  Type ea = cast<ShapedType>(a).getElementType();
  Type eb = cast<ShapedType>(b).getElementType();
  if (ea == eb)
    return success();
  return op->emitOpError() << "element type of '" << aName << "' (" << ea
                           << ") must equal that of '" << bName << "' (" << eb
                           << ")";
}

static int64_t mulDims(int64_t a, int64_t b) {
  if (!isStatic(a) || !isStatic(b))
    return ShapedType::kDynamic;
  return a * b;
}

//===----------------------------------------------------------------------===//
// Shared configuration rules
//===----------------------------------------------------------------------===//

/// The routing rules shared by moe.route and moe.layer.
static LogicalResult verifyRoutingConfig(Operation *op, int64_t numExperts,
                                         int64_t k, int64_t groups,
                                         int64_t groupTopk,
                                         GroupScoreAttr groupScore,
                                         float scale) {
  if (groups < 1)
    return op->emitOpError()
           << "'groups' (" << groups << ") must be at least 1";
  if (numExperts % groups != 0)
    return op->emitOpError()
           << "'groups' (" << groups << ") must divide the number of experts ("
           << numExperts << ")";
  if (groupTopk < 1 || groupTopk > groups)
    return op->emitOpError() << "'group_topk' (" << groupTopk
                             << ") must be in [1, groups = " << groups << "]";
  int64_t perGroup = numExperts / groups;
  int64_t reachable = groupTopk * perGroup;
  if (k < 1 || k > reachable)
    return op->emitOpError()
           << "'k' (" << k << ") must be in [1, " << reachable
           << "], the experts reachable in group_topk = " << groupTopk
           << " groups of " << perGroup;
  if (groupScore.getCount() > perGroup)
    return op->emitOpError()
           << "'group_score' topk_sum<" << groupScore.getCount()
           << "> must sum at most the " << perGroup << " experts of a group";
  if (!std::isfinite(scale) || scale <= 0.0f)
    return op->emitOpError()
           << "'scale' (" << scale << ") must be finite and positive";
  return success();
}

/// What routing ops share: the configuration, a bias of one value per
/// expert, and ids and weights of [tokens, k] where `tokens` names the
/// input's token dimension.
static LogicalResult
verifyRouteShapes(Operation *op, Dim tokens, int64_t numExperts, int64_t k,
                  int64_t groups, int64_t groupTopk, GroupScoreAttr groupScore,
                  float scale, Value bias, ShapedType ids, ShapedType weights) {
  if (failed(verifyRoutingConfig(op, numExperts, k, groups, groupTopk,
                                 groupScore, scale)))
    return failure();
  if (bias &&
      failed(expectDimValue(op, {"bias", cast<ShapedType>(bias.getType()), 0},
                            numExperts, "the number of experts")))
    return failure();
  if (failed(expectSameDim(op, {"ids", ids, 0}, tokens)) ||
      failed(expectSameDim(op, {"weights", weights, 0}, tokens)) ||
      failed(expectDimValue(op, {"ids", ids, 1}, k, "'k'", false)) ||
      failed(expectDimValue(op, {"weights", weights, 1}, k, "'k'", false)))
    return failure();
  return success();
}

static LogicalResult verifyCapacityFactor(Operation *op,
                                          std::optional<APFloat> value) {
  if (!value)
    return success();
  float cf = value->convertToFloat();
  if (std::isfinite(cf) && cf > 0.0f)
    return success();
  return op->emitOpError() << "'capacity_factor' (" << cf
                           << ") must be finite and positive";
}

/// Rules of a balance-loss configuration against the operand shapes.
static LogicalResult verifyLossConfig(Operation *op, BalanceLossAttr config,
                                      int64_t numTokens, int64_t numExperts,
                                      int64_t k) {
  int64_t seqLen = config.getSeqLen();
  if (seqLen && isStatic(numTokens) && numTokens % seqLen != 0)
    return op->emitOpError()
           << "loss 'seq_len' (" << seqLen
           << ") must divide the number of tokens (" << numTokens << ")";
  int64_t devices = config.getDevices();
  if (devices && numExperts % devices != 0)
    return op->emitOpError()
           << "loss 'devices' (" << devices
           << ") must divide the number of experts (" << numExperts << ")";
  if (isStatic(k) && k > numExperts)
    return op->emitOpError()
           << "K (" << k << ") must not exceed the number of experts ("
           << numExperts << ")";
  return success();
}

/// The topology must hold exactly the experts of the op, and a node limit
/// must be guaranteed by the group limit.
static LogicalResult verifyTopology(Operation *op, TopologyAttr topo,
                                    int64_t numExperts, int64_t groups,
                                    int64_t groupTopk) {
  if (topo.getNumExperts() != numExperts)
    return op->emitOpError()
           << "topology holds " << topo.getNodes() << " nodes x "
           << topo.getGpusPerNode() << " GPUs x " << topo.getExpertsPerGpu()
           << " experts = " << topo.getNumExperts()
           << " experts, but there are " << numExperts;
  int64_t limit = topo.getNodeLimit();
  if (!limit || limit == topo.getNodes())
    return success();
  if (groups % topo.getNodes() != 0)
    return op->emitOpError()
           << "topology 'node_limit' (" << limit
           << ") is not guaranteed: 'groups' (" << groups
           << ") must be a multiple of the " << topo.getNodes()
           << " nodes so that each group lies within one node";
  if (groupTopk > limit)
    return op->emitOpError() << "topology 'node_limit' (" << limit
                             << ") is not guaranteed: 'group_topk' ("
                             << groupTopk << ") must not exceed it";
  return success();
}

//===----------------------------------------------------------------------===//
// GateOp
//===----------------------------------------------------------------------===//

LogicalResult GateOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType();
  auto z = getLogits().getType();
  Operation *op = getOperation();
  if (failed(expectSameElementType(op, "weight", w, "input", x)) ||
      failed(expectSameDim(op, {"weight", w, 1}, {"input", x, 1})) ||
      failed(expectSameDim(op, {"logits", z, 0}, {"input", x, 0})) ||
      failed(expectSameDim(op, {"logits", z, 1}, {"weight", w, 0})) ||
      failed(expectStaticDim(op, {"weight", w, 0}, "the number of experts")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// ScoreOp
//===----------------------------------------------------------------------===//

LogicalResult ScoreOp::verify() {
  auto z = getLogits().getType(), s = getScores().getType();
  Operation *op = getOperation();
  if (failed(expectSameDim(op, {"scores", s, 0}, {"logits", z, 0})) ||
      failed(expectSameDim(op, {"scores", s, 1}, {"logits", z, 1})) ||
      failed(expectStaticDim(op, {"logits", z, 1}, "the number of experts")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RouteOp
//===----------------------------------------------------------------------===//

LogicalResult RouteOp::verify() {
  Operation *op = getOperation();
  auto s = getScores().getType();
  auto ids = getIds().getType(), w = getWeights().getType();
  if (failed(expectStaticDim(op, {"scores", s, 1}, "the number of experts")))
    return failure();
  int64_t numExperts = s.getDimSize(1);
  return verifyRouteShapes(op, {"scores", s, 0}, numExperts, getK(),
                           getGroups(), getGroupTopk(), getGroupScore(),
                           getScale().convertToFloat(), getBias(), ids, w);
}

namespace {
/// A bias that is a constant of zeros changes no selection: drop it.
template <typename OpTy> struct DropZeroBias : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value bias = op.getBias();
    DenseFPElementsAttr values;
    if (!bias || !matchPattern(bias, m_Constant(&values)))
      return failure();
    if (!llvm::all_of(values.getValues<APFloat>(),
                      [](const APFloat &v) { return v.isZero(); }))
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.getBiasMutable().clear(); });
    return success();
  }
};

/// Keeping all groups is no group limit at all.
template <typename OpTy> struct DropTrivialGroupLimit : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (op.getGroups() == 1 || op.getGroupTopk() != op.getGroups())
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.setGroups(1);
      op.setGroupTopk(1);
      op.setGroupScoreAttr(GroupScoreAttr::getMax(op.getContext()));
    });
    return success();
  }
};
} // namespace

void RouteOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<DropZeroBias<RouteOp>, DropTrivialGroupLimit<RouteOp>>(context);
}

//===----------------------------------------------------------------------===//
// ExpertCountsOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertCountsOp::verify() {
  return expectStaticDim(getOperation(), {"counts", getCounts().getType(), 0},
                         "the number of experts");
}

//===----------------------------------------------------------------------===//
// DispatchLayoutOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchLayoutOp::verify() {
  Operation *op = getOperation();
  TopologyAttr topo = getTopology();
  auto ids = getIds().getType();
  auto inRank = getIsTokenInRank().getType();
  if (failed(expectDimValue(
          op, {"tokens_per_expert", getTokensPerExpert().getType(), 0},
          topo.getNumExperts(), "the experts of the topology", false)) ||
      failed(expectDimValue(
          op, {"tokens_per_rank", getTokensPerRank().getType(), 0},
          topo.getNumRanks(), "the ranks of the topology", false)) ||
      failed(expectDimValue(
          op, {"tokens_per_node", getTokensPerNode().getType(), 0},
          topo.getNodes(), "the nodes of the topology", false)) ||
      failed(expectDimValue(op, {"is_token_in_rank", inRank, 1},
                            topo.getNumRanks(), "the ranks of the topology",
                            false)) ||
      failed(
          expectSameDim(op, {"is_token_in_rank", inRank, 0}, {"ids", ids, 0})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  Operation *op = getOperation();
  auto x = getInput().getType(), ids = getIds().getType();
  auto w = getWeights().getType(), rows = getRows().getType();
  auto map = getRowMap().getType(), off = getOffsets().getType();
  if (failed(verifyCapacityFactor(op, getCapacityFactor())))
    return failure();
  if (!getCapacityFactor() && getDropPolicy() != DropPolicy::probs)
    return emitOpError("'drop_policy' requires 'capacity_factor'");
  if (failed(expectStaticDim(op, {"offsets", off, 0},
                             "the number of experts + 1")))
    return failure();
  if (off.getDimSize(0) < 2)
    return emitOpError() << "'offsets' dim 0 (" << off.getDimSize(0)
                         << ") must be the number of experts + 1, at least 2";
  if (failed(expectSameElementType(op, "rows", rows, "input", x)) ||
      failed(expectSameDim(op, {"ids", ids, 0}, {"input", x, 0})) ||
      failed(expectSameDim(op, {"weights", w, 0}, {"ids", ids, 0})) ||
      failed(expectSameDim(op, {"weights", w, 1}, {"ids", ids, 1})) ||
      failed(expectSameDim(op, {"row_map", map, 0}, {"ids", ids, 0})) ||
      failed(expectSameDim(op, {"row_map", map, 1}, {"ids", ids, 1})) ||
      failed(expectSameDim(op, {"rows", rows, 1}, {"input", x, 1})) ||
      failed(expectDimValue(op, {"rows", rows, 0},
                            mulDims(x.getDimSize(0), ids.getDimSize(1)),
                            "tokens x k")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// ExpertFFNOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertFFNOp::verify() {
  Operation *op = getOperation();
  auto rows = getRows().getType(), out = getOutput().getType();
  auto gu = getGateUp().getType(), down = getDown().getType();
  if (failed(expectSameElementType(op, "gate_up", gu, "rows", rows)) ||
      failed(expectSameElementType(op, "down", down, "rows", rows)) ||
      failed(expectSameElementType(op, "output", out, "rows", rows)) ||
      failed(
          expectStaticDim(op, {"gate_up", gu, 0}, "the number of experts")) ||
      failed(expectSameDim(op, {"down", down, 0}, {"gate_up", gu, 0})) ||
      failed(expectSameDim(op, {"gate_up", gu, 2}, {"rows", rows, 1})) ||
      failed(expectSameDim(op, {"down", down, 1}, {"rows", rows, 1})) ||
      failed(expectSameDim(op, {"output", out, 0}, {"rows", rows, 0})) ||
      failed(expectSameDim(op, {"output", out, 1}, {"rows", rows, 1})) ||
      failed(expectStaticDim(op, {"gate_up", gu, 1}, "twice the FFN width")) ||
      failed(expectStaticDim(op, {"down", down, 2}, "the FFN width")))
    return failure();
  if (gu.getDimSize(1) != 2 * down.getDimSize(2))
    return emitOpError() << "'gate_up' dim 1 (" << gu.getDimSize(1)
                         << ") must be twice 'down' dim 2 ("
                         << down.getDimSize(2) << "): gate rows then up rows";
  int64_t numExperts = gu.getDimSize(0);
  if (Value offsets = getOffsets()) {
    if (failed(expectDimValue(
            op, {"offsets", cast<ShapedType>(offsets.getType()), 0},
            numExperts + 1, "the number of experts + 1", false)))
      return failure();
  } else if (numExperts != 1) {
    return emitOpError() << "without 'offsets' the weights must hold exactly "
                            "one expert, not "
                         << numExperts;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// CombineOp
//===----------------------------------------------------------------------===//

LogicalResult CombineOp::verify() {
  Operation *op = getOperation();
  auto h = getExpertOut().getType(), map = getRowMap().getType();
  auto w = getWeights().getType(), out = getOutput().getType();
  if (failed(expectSameElementType(op, "output", out, "expert_out", h)) ||
      failed(expectSameDim(op, {"weights", w, 0}, {"row_map", map, 0})) ||
      failed(expectSameDim(op, {"weights", w, 1}, {"row_map", map, 1})) ||
      failed(expectSameDim(op, {"output", out, 0}, {"row_map", map, 0})) ||
      failed(expectSameDim(op, {"output", out, 1}, {"expert_out", h, 1})))
    return failure();
  if (Value shared = getShared()) {
    auto sh = cast<ShapedType>(shared.getType());
    if (failed(expectSameElementType(op, "shared", sh, "expert_out", h)) ||
        failed(expectSameDim(op, {"shared", sh, 0}, {"output", out, 0})) ||
        failed(expectSameDim(op, {"shared", sh, 1}, {"output", out, 1})))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// BalanceLossOp / BalanceLossGradOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyLossOperands(Operation *op, ShapedType scores,
                                        ShapedType ids,
                                        BalanceLossAttr config) {
  if (failed(expectStaticDim(op, {"scores", scores, 1},
                             "the number of experts")) ||
      failed(expectSameDim(op, {"ids", ids, 0}, {"scores", scores, 0})))
    return failure();
  return verifyLossConfig(op, config, scores.getDimSize(0),
                          scores.getDimSize(1), ids.getDimSize(1));
}

LogicalResult BalanceLossOp::verify() {
  return verifyLossOperands(getOperation(), getScores().getType(),
                            getIds().getType(), getConfig());
}

OpFoldResult BalanceLossOp::fold(FoldAdaptor) {
  // A loss with coefficient 0 is switched off.
  if (!getConfig().getAlpha().isZero())
    return {};
  return DenseElementsAttr::get(getLoss().getType(), 0.0f);
}

LogicalResult BalanceLossGradOp::verify() {
  Operation *op = getOperation();
  auto s = getScores().getType(), g = getGrad().getType();
  if (failed(verifyLossOperands(op, s, getIds().getType(), getConfig())) ||
      failed(expectSameDim(op, {"grad", g, 0}, {"scores", s, 0})) ||
      failed(expectSameDim(op, {"grad", g, 1}, {"scores", s, 1})))
    return failure();
  return success();
}

OpFoldResult BalanceLossGradOp::fold(FoldAdaptor) {
  auto type = getGrad().getType();
  if (!getConfig().getAlpha().isZero() || !type.hasStaticShape())
    return {};
  return DenseElementsAttr::get(type, 0.0f);
}

//===----------------------------------------------------------------------===//
// BiasUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult BiasUpdateOp::verify() {
  Operation *op = getOperation();
  float rate = getRate().convertToFloat();
  if (!std::isfinite(rate) || rate < 0.0f)
    return emitOpError() << "'rate' (" << rate
                         << ") must be finite and non-negative";
  auto b = getBias().getType(), c = getCounts().getType();
  if (failed(expectStaticDim(op, {"bias", b, 0}, "the number of experts")) ||
      failed(expectSameDim(op, {"counts", c, 0}, {"bias", b, 0})))
    return failure();
  return success();
}

OpFoldResult BiasUpdateOp::fold(FoldAdaptor) {
  // With rate 0 (DeepSeek-V3's last 500B tokens) the bias does not move.
  if (getRate().isZero())
    return getBias();
  return {};
}

//===----------------------------------------------------------------------===//
// FusedRouteOp
//===----------------------------------------------------------------------===//

LogicalResult FusedRouteOp::verify() {
  Operation *op = getOperation();
  auto z = getLogits().getType();
  auto ids = getIds().getType(), w = getWeights().getType();
  if (failed(expectStaticDim(op, {"logits", z, 1}, "the number of experts")))
    return failure();
  int64_t numExperts = z.getDimSize(1);
  if (!getFunc() && !z.getElementType().isF32())
    return emitOpError("without a score function the input holds the scores "
                       "and must be f32");
  if (failed(verifyRouteShapes(op, {"logits", z, 0}, numExperts, getK(),
                               getGroups(), getGroupTopk(), getGroupScore(),
                               getScale().convertToFloat(), getBias(), ids, w)))
    return failure();
  if (Value counts = getCounts())
    if (failed(expectDimValue(op,
                              {"counts", cast<ShapedType>(counts.getType()), 0},
                              numExperts, "the number of experts", false)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// FusedRouteStatsOp, LossFromStatsOp, FusedLossGradOp
//===----------------------------------------------------------------------===//

/// Width of a statistics row: counts and q sums per expert, device tokens.
static int64_t statsWidth(int64_t numExperts, BalanceLossAttr config) {
  return 2 * numExperts + config.getDevices();
}

LogicalResult FusedRouteStatsOp::verify() {
  Operation *op = getOperation();
  auto z = getLogits().getType();
  if (failed(expectStaticDim(op, {"logits", z, 1}, "the number of experts")))
    return failure();
  int64_t numExperts = z.getDimSize(1);
  if (failed(verifyRoutingConfig(op, numExperts, getK(), getGroups(),
                                 getGroupTopk(), getGroupScore(),
                                 getScale().convertToFloat())) ||
      failed(
          verifyLossConfig(op, getLoss(), z.getDimSize(0), numExperts, getK())))
    return failure();
  int64_t chunk = getChunkAttr().getInt(), seqLen = getLoss().getSeqLen();
  if (chunk < 1 || (seqLen && seqLen % chunk != 0))
    return emitOpError() << "'chunk' (" << chunk
                         << ") must be at least 1 and divide the loss's "
                            "seq_len ("
                         << seqLen << ")";
  auto ids = getIds().getType(), w = getWeights().getType();
  auto counts = getCounts().getType(), stats = getStats().getType();
  if (Value bias = getBias())
    if (failed(expectDimValue(op, {"bias", cast<ShapedType>(bias.getType()), 0},
                              numExperts, "the number of experts")))
      return failure();
  if (failed(expectSameDim(op, {"ids", ids, 0}, {"logits", z, 0})) ||
      failed(expectSameDim(op, {"weights", w, 0}, {"logits", z, 0})) ||
      failed(expectDimValue(op, {"ids", ids, 1}, getK(), "'k'", false)) ||
      failed(expectDimValue(op, {"weights", w, 1}, getK(), "'k'", false)) ||
      failed(expectDimValue(op, {"counts", counts, 0}, numExperts,
                            "the number of experts", false)) ||
      failed(expectDimValue(op, {"stats", stats, 1},
                            statsWidth(numExperts, getLoss()), "2 E + devices",
                            false)))
    return failure();
  return success();
}

LogicalResult LossFromStatsOp::verify() {
  Operation *op = getOperation();
  auto stats = getStats().getType(), g = getWeights().getType();
  if (failed(expectStaticDim(op, {"weights", g, 1}, "the number of experts")))
    return failure();
  int64_t numExperts = g.getDimSize(1);
  int64_t k = getKAttr().getInt(), chunk = getChunkAttr().getInt();
  if (k < 1 || k > numExperts)
    return emitOpError() << "'k' (" << k << ") must be in [1, " << numExperts
                         << "]";
  if (chunk < 1 ||
      (getConfig().getSeqLen() && getConfig().getSeqLen() % chunk != 0))
    return emitOpError() << "'chunk' (" << chunk
                         << ") must be at least 1 and divide the loss's "
                            "seq_len";
  if (getConfig().getDevices() && numExperts % getConfig().getDevices() != 0)
    return emitOpError() << "loss 'devices' (" << getConfig().getDevices()
                         << ") must divide the number of experts ("
                         << numExperts << ")";
  // Statistics may carry device columns another loss of the same routing
  // needs; a device or comm loss needs exactly its own.
  if (failed(expectStaticDim(op, {"stats", stats, 1}, "2 E + devices")))
    return failure();
  int64_t width = stats.getDimSize(1);
  int64_t devices = width - 2 * numExperts;
  if (devices < 0 ||
      (getConfig().getDevices() && devices != getConfig().getDevices()))
    return emitOpError() << "'stats' dim 1 (" << width
                         << ") must be 2 E + the loss's devices ("
                         << statsWidth(numExperts, getConfig()) << ")";
  return success();
}

LogicalResult FusedLossGradOp::verify() {
  Operation *op = getOperation();
  auto z = getLogits().getType(), g = getWeights().getType();
  auto grad = getGrad().getType();
  if (failed(expectStaticDim(op, {"logits", z, 1}, "the number of experts")) ||
      failed(expectSameDim(op, {"weights", g, 1}, {"logits", z, 1})) ||
      failed(expectSameDim(op, {"grad", grad, 0}, {"logits", z, 0})) ||
      failed(expectSameDim(op, {"grad", grad, 1}, {"logits", z, 1})))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// LayerOp
//===----------------------------------------------------------------------===//

LogicalResult LayerOp::verify() {
  Operation *op = getOperation();
  auto x = getInput().getType(), router = getRouter().getType();
  auto gu = getGateUp().getType(), down = getDown().getType();
  auto out = getOutput().getType();

  if (failed(
          expectStaticDim(op, {"router", router, 0}, "the number of experts")))
    return failure();
  int64_t numExperts = router.getDimSize(0);
  if (failed(verifyRoutingConfig(op, numExperts, getK(), getGroups(),
                                 getGroupTopk(), getGroupScore(),
                                 getScale().convertToFloat())) ||
      failed(verifyCapacityFactor(op, getCapacityFactor())))
    return failure();
  if (!getCapacityFactor() && getDropPolicy() != DropPolicy::probs)
    return emitOpError("'drop_policy' requires 'capacity_factor'");

  // Operand shapes: x [T,H], router [E,H], experts [E,2I,H] and [E,H,I].
  if (failed(expectSameElementType(op, "router", router, "input", x)) ||
      failed(expectSameElementType(op, "gate_up", gu, "input", x)) ||
      failed(expectSameElementType(op, "down", down, "input", x)) ||
      failed(expectSameElementType(op, "output", out, "input", x)) ||
      failed(expectSameDim(op, {"router", router, 1}, {"input", x, 1})) ||
      failed(expectDimValue(op, {"gate_up", gu, 0}, numExperts,
                            "the number of experts")) ||
      failed(expectDimValue(op, {"down", down, 0}, numExperts,
                            "the number of experts")) ||
      failed(expectSameDim(op, {"gate_up", gu, 2}, {"input", x, 1})) ||
      failed(expectSameDim(op, {"down", down, 1}, {"input", x, 1})) ||
      failed(expectSameDim(op, {"output", out, 0}, {"input", x, 0})) ||
      failed(expectSameDim(op, {"output", out, 1}, {"input", x, 1})) ||
      failed(
          expectStaticDim(op, {"gate_up", gu, 1}, "twice the expert width")) ||
      failed(expectStaticDim(op, {"down", down, 2}, "the expert width")))
    return failure();
  if (gu.getDimSize(1) != 2 * down.getDimSize(2))
    return emitOpError() << "'gate_up' dim 1 (" << gu.getDimSize(1)
                         << ") must be twice 'down' dim 2 ("
                         << down.getDimSize(2) << "): gate rows then up rows";
  if (Value bias = getBias())
    if (failed(expectDimValue(op, {"bias", cast<ShapedType>(bias.getType()), 0},
                              numExperts, "the number of experts")))
      return failure();

  if (Value sgu = getSharedGateUp()) {
    auto sgt = cast<ShapedType>(sgu.getType());
    auto sdt = cast<ShapedType>(getSharedDown().getType());
    if (failed(expectSameElementType(op, "shared_gate_up", sgt, "input", x)) ||
        failed(expectSameElementType(op, "shared_down", sdt, "input", x)) ||
        failed(expectDimValue(op, {"shared_gate_up", sgt, 0}, 1,
                              "1, one fused shared FFN", false)) ||
        failed(expectDimValue(op, {"shared_down", sdt, 0}, 1,
                              "1, one fused shared FFN", false)) ||
        failed(
            expectSameDim(op, {"shared_gate_up", sgt, 2}, {"input", x, 1})) ||
        failed(expectSameDim(op, {"shared_down", sdt, 1}, {"input", x, 1})) ||
        failed(expectStaticDim(op, {"shared_gate_up", sgt, 1},
                               "twice the shared width")) ||
        failed(
            expectStaticDim(op, {"shared_down", sdt, 2}, "the shared width")))
      return failure();
    if (sgt.getDimSize(1) != 2 * sdt.getDimSize(2))
      return emitOpError() << "'shared_gate_up' dim 1 (" << sgt.getDimSize(1)
                           << ") must be twice 'shared_down' dim 2 ("
                           << sdt.getDimSize(2) << ")";
  }

  if (TopologyAttr topo = getTopologyAttr())
    if (failed(
            verifyTopology(op, topo, numExperts, getGroups(), getGroupTopk())))
      return failure();

  size_t numLosses = getLosses() ? getLosses()->size() : 0;
  if (getAuxLosses().size() != numLosses)
    return emitOpError() << "expects one loss result per entry of 'losses' ("
                         << numLosses << "), got " << getAuxLosses().size();
  if (ArrayAttr losses = getLossesAttr())
    for (auto config : losses.getAsRange<BalanceLossAttr>())
      if (failed(verifyLossConfig(op, config, x.getDimSize(0), numExperts,
                                  getK())))
        return failure();
  return success();
}

void LayerOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<DropZeroBias<LayerOp>, DropTrivialGroupLimit<LayerOp>>(context);
}
