//===- MoeDialect.cpp - moe dialect and attributes ------------------------===//

#include "moe/Dialect/Moe/IR/MoeDialect.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"
#include "moe/Dialect/Moe/IR/MoeVerification.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

using namespace mlir;
using namespace mlir::moe;

#include "moe/Dialect/Moe/IR/MoeEnums.cpp.inc"
#include "moe/Dialect/Moe/IR/MoeOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "moe/Dialect/Moe/IR/MoeAttrs.cpp.inc"

void MoeDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "moe/Dialect/Moe/IR/MoeOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "moe/Dialect/Moe/IR/MoeAttrs.cpp.inc"
      >();
}

Operation *MoeDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

//===----------------------------------------------------------------------===//
// GroupScoreAttr: `max` | `topk_sum<n>`
//===----------------------------------------------------------------------===//

ParseResult mlir::moe::parseGroupScoreBody(AsmParser &parser,
                                           GroupScoreAttr &attr) {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<GroupScoreKind> kind = symbolizeGroupScoreKind(keyword);
  if (!kind)
    return parser.emitError(loc)
           << "expected group score 'max' or 'topk_sum<n>', got '" << keyword
           << "'";
  int64_t n = 1;
  if (*kind == GroupScoreKind::topk_sum &&
      (parser.parseLess() || parser.parseInteger(n) || parser.parseGreater()))
    return failure();
  attr = GroupScoreAttr::getChecked([&] { return parser.emitError(loc); },
                                    parser.getContext(), *kind, n);
  return success(static_cast<bool>(attr));
}

void mlir::moe::printGroupScoreBody(AsmPrinter &printer, GroupScoreAttr attr) {
  printer << stringifyGroupScoreKind(attr.getKind());
  if (attr.getKind() == GroupScoreKind::topk_sum)
    printer << "<" << attr.getN() << ">";
}

Attribute GroupScoreAttr::parse(AsmParser &parser, Type) {
  GroupScoreAttr attr;
  if (parser.parseLess() || parseGroupScoreBody(parser, attr) ||
      parser.parseGreater())
    return {};
  return attr;
}

void GroupScoreAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printGroupScoreBody(printer, *this);
  printer << ">";
}

LogicalResult
GroupScoreAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       GroupScoreKind kind, int64_t n) {
  if (kind == GroupScoreKind::max && n != 1)
    return emitError() << "group score 'max' takes no count";
  if (kind == GroupScoreKind::topk_sum && n < 1)
    return emitError() << "'group_score' topk_sum<" << n
                       << "> must sum at least 1 score per group";
  return success();
}

//===----------------------------------------------------------------------===//
// TopologyAttr
//===----------------------------------------------------------------------===//

LogicalResult TopologyAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t nodes, int64_t gpusPerNode,
                                   int64_t expertsPerGpu, int64_t nodeLimit) {
  auto atLeastOne = [&](StringRef name, int64_t v) -> LogicalResult {
    if (v >= 1)
      return success();
    return emitError() << "topology '" << name << "' (" << v
                       << ") must be at least 1";
  };
  if (failed(atLeastOne("nodes", nodes)) ||
      failed(atLeastOne("gpus_per_node", gpusPerNode)) ||
      failed(atLeastOne("experts_per_gpu", expertsPerGpu)))
    return failure();
  // Expert ids are i32: the topology's experts (and so its ranks) fit them,
  // which also keeps every product of its fields exact.
  std::optional<int64_t> ranks = checkedMul(nodes, gpusPerNode);
  std::optional<int64_t> experts =
      ranks ? checkedMul(*ranks, expertsPerGpu) : std::nullopt;
  if (!experts || *experts > std::numeric_limits<int32_t>::max())
    return emitError() << "topology of " << nodes << " x " << gpusPerNode
                       << " x " << expertsPerGpu
                       << " experts must fit the i32 expert ids";
  if (nodeLimit < 0 || nodeLimit > nodes)
    return emitError() << "topology 'node_limit' (" << nodeLimit
                       << ") must be in [1, nodes = " << nodes << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// BalanceLossAttr:
//   `<` kind `,` `alpha` `=` float (`,` key `=` value)* `>`
//===----------------------------------------------------------------------===//

Attribute BalanceLossAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef kindName;
  if (parser.parseLess() || parser.parseKeyword(&kindName))
    return {};
  std::optional<LossKind> kind = symbolizeLossKind(kindName);
  if (!kind) {
    parser.emitError(loc) << "expected loss kind 'sequence', 'expert', "
                             "'device' or 'comm', got '"
                          << kindName << "'";
    return {};
  }
  APFloat alpha(0.0f);
  if (parser.parseComma() || parser.parseKeyword("alpha") ||
      parser.parseEqual() || parser.parseFloat(APFloat::IEEEsingle(), alpha))
    return {};

  CountSource counts = CountSource::selected;
  int64_t seqLen = 0, devices = 0, deviceLimit = 0;
  llvm::StringSet<> seen;
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (!seen.insert(key).second) {
      parser.emitError(keyLoc) << "loss parameter '" << key << "' given twice";
      return {};
    }
    if (key == "counts") {
      StringRef src;
      SMLoc srcLoc = parser.getCurrentLocation();
      if (parser.parseKeyword(&src))
        return {};
      std::optional<CountSource> parsed = symbolizeCountSource(src);
      if (!parsed) {
        parser.emitError(srcLoc)
            << "expected count source 'selected' or 'topk', got '" << src
            << "'";
        return {};
      }
      counts = *parsed;
    } else if (key == "seq_len") {
      if (parser.parseInteger(seqLen))
        return {};
    } else if (key == "devices") {
      if (parser.parseInteger(devices))
        return {};
    } else if (key == "device_limit") {
      if (parser.parseInteger(deviceLimit))
        return {};
    } else {
      parser.emitError(keyLoc)
          << "unknown loss parameter '" << key
          << "' (expected counts, seq_len, devices or device_limit)";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *kind, alpha, counts, seqLen, devices, deviceLimit);
}

/// Prints `value` in scientific notation with the fewest digits that read
/// back as the same f32 (1.0e-04 rather than 9.99999974E-5).
static void printShortestFloat(AsmPrinter &printer, float value) {
  if (!std::isfinite(value)) {
    printer.printFloat(APFloat(value));
    return;
  }
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*e", digits,
                  static_cast<double>(value));
    if (std::strtof(text, nullptr) == value)
      break;
  }
  printer << text;
}

void BalanceLossAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyLossKind(getKind()) << ", alpha = ";
  printShortestFloat(printer, getAlpha().convertToFloat());
  if (getCounts() != CountSource::selected)
    printer << ", counts = " << stringifyCountSource(getCounts());
  if (getSeqLen())
    printer << ", seq_len = " << getSeqLen();
  if (getDevices())
    printer << ", devices = " << getDevices();
  if (getDeviceLimit())
    printer << ", device_limit = " << getDeviceLimit();
  printer << ">";
}

LogicalResult
BalanceLossAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        LossKind kind, APFloat alphaValue, CountSource,
                        int64_t seqLen, int64_t devices, int64_t deviceLimit) {
  if (&alphaValue.getSemantics() != &APFloat::IEEEsingle())
    return emitError() << "loss 'alpha' must be an f32 value";
  float alpha = alphaValue.convertToFloat();
  if (!std::isfinite(alpha) || alpha < 0.0f)
    return emitError() << "loss 'alpha' (" << alpha
                       << ") must be finite and non-negative";
  if (seqLen < 0)
    return emitError() << "loss 'seq_len' (" << seqLen
                       << ") must be at least 1";
  if (devices < 0)
    return emitError() << "loss 'devices' (" << devices
                       << ") must be at least 1";
  bool perDevice = kind == LossKind::device || kind == LossKind::comm;
  if (perDevice && devices == 0)
    return emitError() << "'" << stringifyLossKind(kind)
                       << "' loss requires 'devices'";
  if (!perDevice && devices != 0)
    return emitError() << "'devices' is only used by device and comm losses";
  if (kind == LossKind::comm && deviceLimit == 0)
    return emitError() << "'comm' loss requires 'device_limit'";
  if (kind != LossKind::comm && deviceLimit != 0)
    return emitError() << "'device_limit' is only used by the comm loss";
  if (kind == LossKind::comm && (deviceLimit < 1 || deviceLimit > devices))
    return emitError() << "loss 'device_limit' (" << deviceLimit
                       << ") must be in [1, devices = " << devices << "]";
  return success();
}
