//===- MoeVerification.cpp - rules shared by moe and moegpu verifiers -----===//
//
// Shape and configuration rules with messages naming the operand or the
// attribute and the rule. The moe ops and the moegpu kernel ops that carry
// the same configuration check it with the same code.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeVerification.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace mlir::moe {

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

bool isStatic(int64_t size) { return !ShapedType::isDynamic(size); }

/// Two sizes agree when both are dynamic or both are static and equal: a
/// size an op knows statically is static in every operand and result, so
/// every lowering can keep the types as declared.
LogicalResult expectSameDim(Operation *op, Dim a, Dim b) {
  if (isStatic(a.size()) != isStatic(b.size())) {
    Dim dynamic = isStatic(a.size()) ? b : a,
        fixed = isStatic(a.size()) ? a : b;
    return op->emitOpError() << "'" << dynamic.name << "' dim " << dynamic.index
                             << " is dynamic but '" << fixed.name << "' dim "
                             << fixed.index << " is static (" << fixed.size()
                             << "): a size is static everywhere or nowhere";
  }
  if (!isStatic(a.size()) || a.size() == b.size())
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                           << a.size() << ") must equal '" << b.name << "' dim "
                           << b.index << " (" << b.size() << ")";
}

/// A dimension must equal a value the op derives; it is dynamic exactly
/// when that value is.
LogicalResult expectDimValue(Operation *op, Dim a, int64_t expected,
                             StringRef what) {
  if (!isStatic(a.size())) {
    if (!isStatic(expected))
      return success();
    return op->emitOpError()
           << "'" << a.name << "' dim " << a.index << " must be static ("
           << what << ", " << expected << ")";
  }
  if (!isStatic(expected))
    return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                             << a.size() << ") must be dynamic like " << what;
  if (a.size() == expected)
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                           << a.size() << ") must equal " << what << " ("
                           << expected << ")";
}

LogicalResult expectStaticDim(Operation *op, Dim a, StringRef what) {
  if (isStatic(a.size()))
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index
                           << " must be static (" << what << ")";
}

LogicalResult expectSameElementType(Operation *op, StringRef aName, Type a,
                                    StringRef bName, Type b) {
  Type ea = cast<ShapedType>(a).getElementType();
  Type eb = cast<ShapedType>(b).getElementType();
  if (ea == eb)
    return success();
  return op->emitOpError() << "element type of '" << aName << "' (" << ea
                           << ") must equal that of '" << bName << "' (" << eb
                           << ")";
}

int64_t mulDims(int64_t a, int64_t b) {
  if (!isStatic(a) || !isStatic(b))
    return ShapedType::kDynamic;
  return checkedMul(a, b).value_or(kMaxTensorBytes + 1);
}

//===----------------------------------------------------------------------===//
// Sizes
//===----------------------------------------------------------------------===//

int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  if (type.isIntOrFloat())
    return std::max<int64_t>(1,
                             llvm::divideCeil(type.getIntOrFloatBitWidth(), 8));
  return 1;
}

std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  return llvm::checkedMul(a, b);
}

std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  return llvm::checkedAdd(a, b);
}

std::optional<int64_t> staticBytes(ArrayRef<int64_t> shape, Type element) {
  std::optional<int64_t> bytes = elementBytes(element);
  for (int64_t d : shape)
    if (isStatic(d) && bytes)
      bytes = checkedMul(*bytes, d);
  return bytes;
}

LogicalResult verifyTensorBytes(Operation *op, const Twine &what,
                                ArrayRef<int64_t> shape, Type element) {
  // Empty dimensions count as one: an empty tensor must not carry a
  // dimension whose products with the others overflow (4x0x2^63-1).
  SmallVector<int64_t> extents(shape);
  bool empty = llvm::is_contained(shape, 0);
  for (int64_t &d : extents)
    d = d == 0 ? 1 : d;
  std::optional<int64_t> bytes = staticBytes(extents, element);
  if (bytes && *bytes <= kMaxTensorBytes)
    return success();
  std::string type;
  llvm::raw_string_ostream os(type);
  for (int64_t d : shape) {
    if (isStatic(d))
      os << d;
    else
      os << "?";
    os << "x";
  }
  os << element;
  InFlightDiagnostic diag = op->emitOpError() << what << " (" << type << ") ";
  if (bytes)
    diag << "takes " << *bytes << " bytes";
  else
    diag << "has more bytes than a 64-bit integer holds";
  if (empty)
    diag << " with its empty dimensions counted as one";
  return diag << "; the most a tensor may take is " << kMaxTensorBytes
              << " bytes (2^48)";
}

LogicalResult verifyShapedSizes(Operation *op) {
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (auto type = dyn_cast<ShapedType>(v.getType()); type && type.hasRank())
      if (failed(verifyTensorBytes(op, "operand #" + Twine(i), type.getShape(),
                                   type.getElementType())))
        return failure();
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    if (auto type = dyn_cast<ShapedType>(v.getType()); type && type.hasRank())
      if (failed(verifyTensorBytes(op, "result #" + Twine(i), type.getShape(),
                                   type.getElementType())))
        return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Shared configuration rules
//===----------------------------------------------------------------------===//

/// The routing rules shared by moe.route and moe.layer.
LogicalResult verifyRoutingConfig(Operation *op, int64_t numExperts, int64_t k,
                                  int64_t groups, int64_t groupTopk,
                                  GroupScoreAttr groupScore, float scale) {
  if (numExperts > std::numeric_limits<int32_t>::max())
    return op->emitOpError() << "the number of experts (" << numExperts
                             << ") must fit the i32 expert ids";
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
LogicalResult verifyRouteShapes(Operation *op, Dim tokens, int64_t numExperts,
                                int64_t k, int64_t groups, int64_t groupTopk,
                                GroupScoreAttr groupScore, float scale,
                                Value bias, ShapedType ids,
                                ShapedType weights) {
  if (failed(verifyRoutingConfig(op, numExperts, k, groups, groupTopk,
                                 groupScore, scale)))
    return failure();
  if (bias &&
      failed(expectDimValue(op, {"bias", cast<ShapedType>(bias.getType()), 0},
                            numExperts, "the number of experts")))
    return failure();
  if (failed(expectSameDim(op, {"ids", ids, 0}, tokens)) ||
      failed(expectSameDim(op, {"weights", weights, 0}, tokens)) ||
      failed(expectDimValue(op, {"ids", ids, 1}, k, "'k'")) ||
      failed(expectDimValue(op, {"weights", weights, 1}, k, "'k'")))
    return failure();
  return success();
}

LogicalResult verifyCapacityFactor(Operation *op,
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
LogicalResult verifyLossConfig(Operation *op, BalanceLossAttr config,
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
LogicalResult verifyTopology(Operation *op, TopologyAttr topo,
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

bool isFP8(Type type) {
  return isa<Float8E4M3FNType>(getElementTypeOrSelf(type));
}

LogicalResult verifyFFNScales(Operation *op, bool fp8, StringRef prefix,
                              StringRef scalesName, ShapedType gateUp,
                              ShapedType down, Value gateUpScales,
                              Value downScales) {
  std::string guName = (prefix + "gate_up").str();
  std::string downName = (prefix + "down").str();
  if (!fp8) {
    if (gateUpScales || downScales)
      return op->emitOpError()
             << "'" << scalesName << "' are only for e4m3 (f8E4M3FN) weights; '"
             << guName << "' is " << gateUp.getElementType();
    return success();
  }
  for (auto [name, type] :
       {std::pair<StringRef, ShapedType>{guName, gateUp}, {downName, down}})
    if (!isFP8(type))
      return op->emitOpError()
             << "'" << name << "' must be e4m3 (f8E4M3FN) "
             << "like the other FP8 operands, not " << type.getElementType();
  if (!gateUpScales || !downScales)
    return op->emitOpError()
           << "e4m3 '" << guName << "' and '" << downName
           << "' need their block scales ('" << scalesName << "')";
  // Activations (the rows, and h) are quantised in groups of 128 along K.
  int64_t hidden = gateUp.getDimSize(2), width = down.getDimSize(2);
  for (auto [what, size] :
       {std::pair<StringRef, int64_t>{"hidden size", hidden},
        {"expert width", width}})
    if (isStatic(size) && size % kFP8Block != 0)
      return op->emitOpError()
             << "FP8 needs the " << what << " (" << size
             << ") to be a multiple of " << kFP8Block
             << ": activations are quantised in groups of " << kFP8Block;
  auto blocks = [](int64_t size) {
    return isStatic(size) ? (size + kFP8Block - 1) / kFP8Block : size;
  };
  std::string guScalesName = guName + "_scales";
  std::string downScalesName = downName + "_scales";
  for (auto [name, wName, w, scales] :
       {std::tuple<StringRef, StringRef, ShapedType, Value>{
            guScalesName, guName, gateUp, gateUpScales},
        {downScalesName, downName, down, downScales}}) {
    auto s = cast<ShapedType>(scales.getType());
    std::string rowsWhat = ("ceil('" + wName + "' dim 1 / 128)").str();
    std::string colsWhat = ("ceil('" + wName + "' dim 2 / 128)").str();
    if (failed(expectSameDim(op, {name, s, 0}, {wName, w, 0})) ||
        failed(expectDimValue(op, {name, s, 1}, blocks(w.getDimSize(1)),
                              rowsWhat)) ||
        failed(expectDimValue(op, {name, s, 2}, blocks(w.getDimSize(2)),
                              colsWhat)))
      return failure();
  }
  return success();
}

} // namespace mlir::moe
