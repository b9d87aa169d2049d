//===- MoeVerification.h - rules shared by moe and moegpu ops ---*- C++ -*-===//
//
// Shape and configuration checks with messages naming the operand or the
// attribute and the rule, and the custom assembly directives of enum
// keywords, shared by the moe ops and the moegpu kernel ops.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_DIALECT_MOE_IR_MOEVERIFICATION_H
#define MOE_DIALECT_MOE_IR_MOEVERIFICATION_H

#include "moe/Dialect/Moe/IR/MoeDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>

namespace mlir::moe {

/// A named operand or result dimension, for messages such as
/// "'weight' dim 1 (64) must equal 'input' dim 1 (128)".
struct Dim {
  StringRef name;
  ShapedType type;
  unsigned index;
  int64_t size() const { return type.getDimSize(index); }
};

bool isStatic(int64_t size);
/// Two sizes agree when both are dynamic or both are static and equal.
LogicalResult expectSameDim(Operation *op, Dim a, Dim b);
/// A dimension must equal a value the op derives; it is dynamic exactly
/// when that value is.
LogicalResult expectDimValue(Operation *op, Dim a, int64_t expected,
                             StringRef what);
LogicalResult expectStaticDim(Operation *op, Dim a, StringRef what);
LogicalResult expectSameElementType(Operation *op, StringRef aName, Type a,
                                    StringRef bName, Type b);
/// a * b, dynamic if either is; kMaxTensorBytes + 1 (too large for any
/// check to accept) when the product does not fit.
int64_t mulDims(int64_t a, int64_t b);

/// The largest tensor the dialects accept, in bytes (256 TiB): beyond any
/// device's memory, and far enough below 2^63 that every size a lowering
/// derives from such tensors (row counts, tile maps, offsets, workspace
/// sums) is exact in 64-bit arithmetic.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 48;
/// Bytes of one element of `type` (whole bytes; i1 takes one, index eight).
int64_t elementBytes(Type type);
/// a * b and a + b, or nothing when they overflow int64.
std::optional<int64_t> checkedMul(int64_t a, int64_t b);
std::optional<int64_t> checkedAdd(int64_t a, int64_t b);
/// The bytes of a tensor of `shape` and `element`, dynamic dimensions
/// aside (nothing when they overflow).
std::optional<int64_t> staticBytes(ArrayRef<int64_t> shape, Type element);
/// `what` (a tensor of `shape` and `element`; dynamic and empty dimensions
/// count as one) is at most kMaxTensorBytes.
LogicalResult verifyTensorBytes(Operation *op, const Twine &what,
                                ArrayRef<int64_t> shape, Type element);
/// verifyTensorBytes for every shaped operand and result of `op`.
LogicalResult verifyShapedSizes(Operation *op);

/// The routing rules shared by moe.route, moe.layer and moegpu.route.
LogicalResult verifyRoutingConfig(Operation *op, int64_t numExperts, int64_t k,
                                  int64_t groups, int64_t groupTopk,
                                  GroupScoreAttr groupScore, float scale);
/// The routing rules plus a bias of one value per expert, and ids and
/// weights of [tokens, k] where `tokens` names the input's token dimension.
LogicalResult verifyRouteShapes(Operation *op, Dim tokens, int64_t numExperts,
                                int64_t k, int64_t groups, int64_t groupTopk,
                                GroupScoreAttr groupScore, float scale,
                                Value bias, ShapedType ids, ShapedType weights);
LogicalResult verifyCapacityFactor(Operation *op, std::optional<APFloat> value);
/// A loss configuration against the tokens, experts and k of its routing.
LogicalResult verifyLossConfig(Operation *op, BalanceLossAttr config,
                               int64_t numTokens, int64_t numExperts,
                               int64_t k);
/// The topology must hold exactly the experts of the op, and a node limit
/// must be guaranteed by the group limit.
LogicalResult verifyTopology(Operation *op, TopologyAttr topo,
                             int64_t numExperts, int64_t groups,
                             int64_t groupTopk);

/// FP8 (DeepSeek-V3's checkpoints): weights carry one f32 scale per
/// 128x128 block, activations one per token and 128 consecutive elements.
constexpr int64_t kFP8Block = 128;
bool isFP8(Type type);
/// The weights of one FFN, gate_up [E, 2I, H] and down [E, H, I], named
/// `<prefix>gate_up` and `<prefix>down`, with their scales `scales` (names
/// for messages: "'scales'"). With `fp8` both are e4m3 and the scales
/// [E, 2I/128, H/128] and [E, H/128, I/128] are present (H and I multiples
/// of 128); otherwise there are no scales.
LogicalResult verifyFFNScales(Operation *op, bool fp8, StringRef prefix,
                              StringRef scalesName, ShapedType gateUp,
                              ShapedType down, Value gateUpScales,
                              Value downScales);

//===----------------------------------------------------------------------===//
// Custom directives: an enum attribute as a bare keyword (`sigmoid`,
// `probs`, `persistent`), and the group score (`max`, `topk_sum<2>`).
//===----------------------------------------------------------------------===//

/// The keywords an enum takes and how a keyword reads, for parseKeyword
/// (found by argument-dependent lookup: each dialect declares them for its
/// enums).
inline StringRef expectedKeywords(ScoreFunc) {
  return "'sigmoid' or 'softmax'";
}
inline StringRef expectedKeywords(DropPolicy) {
  return "'probs' or 'position'";
}
inline std::optional<ScoreFunc> symbolizeKeyword(StringRef s, ScoreFunc) {
  return symbolizeScoreFunc(s);
}
inline std::optional<DropPolicy> symbolizeKeyword(StringRef s, DropPolicy) {
  return symbolizeDropPolicy(s);
}

template <typename EnumAttrT>
ParseResult parseKeyword(OpAsmParser &parser, EnumAttrT &attr) {
  using EnumT = decltype(std::declval<EnumAttrT>().getValue());
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeKeyword(keyword, EnumT());
  if (!value)
    return parser.emitError(loc) << "expected " << expectedKeywords(EnumT())
                                 << ", got '" << keyword << "'";
  attr = EnumAttrT::get(parser.getContext(), *value);
  return success();
}

template <typename EnumAttrT>
void printKeyword(OpAsmPrinter &printer, Operation *, EnumAttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

inline ParseResult parseGroupScore(OpAsmParser &parser, GroupScoreAttr &attr) {
  return parseGroupScoreBody(parser, attr);
}

inline void printGroupScore(OpAsmPrinter &printer, Operation *,
                            GroupScoreAttr attr) {
  printGroupScoreBody(printer, attr);
}

} // namespace mlir::moe

#endif // MOE_DIALECT_MOE_IR_MOEVERIFICATION_H
