//===- MoeOps.cpp - moe dialect operations --------------------------------===//
//
// Verifiers, folders and canonicalization patterns of the moe ops. Every rule
// is checked here with a message naming the attribute or operand and the rule,
// so that a bad configuration never reaches a lowering.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeOps.h"
#include "moe/Dialect/Moe/IR/MoeVerification.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

#define GET_OP_CLASSES
#include "moe/Dialect/Moe/IR/MoeOps.cpp.inc"

//===----------------------------------------------------------------------===//
// GateOp
//===----------------------------------------------------------------------===//

/// The router logits' precision: f32, or rounded to the activation type.
static LogicalResult verifyLogitsType(Operation *op, Type logits, Type input) {
  if (logits.isF32() || logits == input)
    return success();
  return op->emitOpError() << "router logits are f32 or the input's element "
                              "type ("
                           << input << "), got " << logits;
}

LogicalResult GateOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType();
  auto z = getLogits().getType();
  Operation *op = getOperation();
  if (failed(verifyLogitsType(op, z.getElementType(), x.getElementType())) ||
      failed(expectSameElementType(op, "weight", w, "input", x)) ||
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
          topo.getNumExperts(), "the experts of the topology")) ||
      failed(expectDimValue(
          op, {"tokens_per_rank", getTokensPerRank().getType(), 0},
          topo.getNumRanks(), "the ranks of the topology")) ||
      failed(expectDimValue(
          op, {"tokens_per_node", getTokensPerNode().getType(), 0},
          topo.getNodes(), "the nodes of the topology")) ||
      failed(expectDimValue(op, {"is_token_in_rank", inRank, 1},
                            topo.getNumRanks(), "the ranks of the topology")) ||
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
  Value scales = getScales(), rowScales = getRowScales();
  if (isFP8(x) != static_cast<bool>(scales))
    return scales ? emitOpError("'scales' are only for e4m3 (f8E4M3FN) input")
                  : emitOpError("e4m3 'input' needs its 'scales' (one per "
                                "token and group), which travel with the rows");
  if (static_cast<bool>(scales) != static_cast<bool>(rowScales))
    return emitOpError("has a 'row_scales' result exactly when it has "
                       "'scales'");
  if (scales) {
    auto st = cast<ShapedType>(scales.getType());
    auto rst = cast<ShapedType>(rowScales.getType());
    if (failed(expectSameDim(op, {"scales", st, 0}, {"input", x, 0})) ||
        failed(expectStaticDim(op, {"scales", st, 1}, "the groups per row")) ||
        failed(expectSameDim(op, {"row_scales", rst, 0}, {"rows", rows, 0})) ||
        failed(expectSameDim(op, {"row_scales", rst, 1}, {"scales", st, 1})))
      return failure();
  }
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
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  Operation *op = getOperation();
  auto x = getInput().getType();
  auto values = getValues().getType(), scales = getScales().getType();
  int64_t group = getGroup();
  if (failed(expectStaticDim(op, {"input", x, 1}, "the quantised width")) ||
      failed(expectSameDim(op, {"values", values, 0}, {"input", x, 0})) ||
      failed(expectSameDim(op, {"values", values, 1}, {"input", x, 1})) ||
      failed(expectSameDim(op, {"scales", scales, 0}, {"input", x, 0})))
    return failure();
  int64_t width = x.getDimSize(1);
  if (width % group != 0)
    return emitOpError() << "'group' (" << group
                         << ") must divide the input's width (" << width << ")";
  return expectDimValue(op, {"scales", scales, 1}, width / group,
                        "the groups per token");
}

//===----------------------------------------------------------------------===//
// ExpertFFNOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertFFNOp::verify() {
  Operation *op = getOperation();
  auto rows = getRows().getType(), out = getOutput().getType();
  auto gu = getGateUp().getType(), down = getDown().getType();
  bool fp8 = isFP8();
  if (fp8 != static_cast<bool>(getRowScales()))
    return fp8 ? emitOpError("e4m3 'rows' need their 'scales' (one per row "
                             "and group of 128)")
               : emitOpError("row 'scales' are only for e4m3 (f8E4M3FN) rows");
  if (getUe8m0() && !fp8)
    return emitOpError("'ue8m0' (power-of-two scales for h) is only for e4m3 "
                       "(f8E4M3FN) rows and weights");
  if (failed(verifyFFNScales(op, fp8, "", "scales", gu, down, getGateUpScales(),
                             getDownScales())))
    return failure();
  if (!fp8 && (failed(expectSameElementType(op, "gate_up", gu, "rows", rows)) ||
               failed(expectSameElementType(op, "down", down, "rows", rows)) ||
               failed(expectSameElementType(op, "output", out, "rows", rows))))
    return failure();
  if (failed(
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
  if (Value rowScales = getRowScales()) {
    auto rst = cast<ShapedType>(rowScales.getType());
    if (failed(expectSameDim(op, {"scales", rst, 0}, {"rows", rows, 0})) ||
        failed(expectDimValue(op, {"scales", rst, 1},
                              isStatic(rows.getDimSize(1))
                                  ? rows.getDimSize(1) / kFP8Block
                                  : ShapedType::kDynamic,
                              "the groups of 128 per row")))
      return failure();
  }
  int64_t numExperts = gu.getDimSize(0);
  if (Value offsets = getOffsets()) {
    if (failed(expectDimValue(
            op, {"offsets", cast<ShapedType>(offsets.getType()), 0},
            numExperts + 1, "the number of experts + 1")))
      return failure();
  } else if (numExperts != 1) {
    return emitOpError() << "without 'offsets' the weights must hold exactly "
                            "one expert, not "
                         << numExperts;
  }
  // h = silu(gate) * up, one row per row, fits as well.
  return verifyTensorBytes(op, "the intermediate h",
                           {rows.getDimSize(0), down.getDimSize(2)},
                           out.getElementType());
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
  if (std::optional<Type> logits = getLogits();
      logits && failed(verifyLogitsType(op, *logits, x.getElementType())))
    return failure();

  // Operand shapes: x [T,H], router [E,H], experts [E,2I,H] and [E,H,I];
  // FP8 experts are e4m3 with block scales, everything else as x.
  bool fp8 = isFP8();
  if (getUe8m0() && !fp8)
    return emitOpError("'ue8m0' (power-of-two activation scales) is only for "
                       "e4m3 (f8E4M3FN) expert weights");
  if (failed(verifyFFNScales(op, fp8, "", "scales", gu, down, getGateUpScales(),
                             getDownScales())))
    return failure();
  if (!fp8 && (failed(expectSameElementType(op, "gate_up", gu, "input", x)) ||
               failed(expectSameElementType(op, "down", down, "input", x))))
    return failure();
  if (failed(expectSameElementType(op, "router", router, "input", x)) ||
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

  if (static_cast<bool>(getSharedGateUp()) !=
      static_cast<bool>(getSharedDown()))
    return emitOpError("has both shared expert weights ('shared_gate_up' and "
                       "'shared_down') or neither");
  if (!getSharedGateUp() && (getSharedGateUpScales() || getSharedDownScales()))
    return emitOpError("has 'shared_scales' but no shared expert weights");
  if (Value sgu = getSharedGateUp()) {
    auto sgt = cast<ShapedType>(sgu.getType());
    auto sdt = cast<ShapedType>(getSharedDown().getType());
    if (failed(verifyFFNScales(op, fp8, "shared_", "shared_scales", sgt, sdt,
                               getSharedGateUpScales(), getSharedDownScales())))
      return failure();
    if (!fp8 &&
        (failed(expectSameElementType(op, "shared_gate_up", sgt, "input", x)) ||
         failed(expectSameElementType(op, "shared_down", sdt, "input", x))))
      return failure();
    if (failed(expectDimValue(op, {"shared_gate_up", sgt, 0}, 1,
                              "1, one fused shared FFN")) ||
        failed(expectDimValue(op, {"shared_down", sdt, 0}, 1,
                              "1, one fused shared FFN")) ||
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

  // The tensors the layer expands into fit too: routed rows are T*K.
  int64_t tokens = x.getDimSize(0), hidden = x.getDimSize(1);
  int64_t rows = mulDims(tokens, getK());
  Type f32 = Float32Type::get(getContext()), elem = x.getElementType();
  if (failed(verifyTensorBytes(op, "the router logits", {tokens, numExperts},
                               f32)) ||
      failed(
          verifyTensorBytes(op, "the permuted rows", {rows, hidden}, elem)) ||
      failed(verifyTensorBytes(op, "the experts' intermediate",
                               {rows, down.getDimSize(2)}, elem)))
    return failure();
  if (Value sdown = getSharedDown())
    if (failed(verifyTensorBytes(
            op, "the shared expert's intermediate",
            {tokens, cast<ShapedType>(sdown.getType()).getDimSize(2)}, elem)))
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
