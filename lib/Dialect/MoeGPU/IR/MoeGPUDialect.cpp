//===- MoeGPUDialect.cpp - moegpu dialect and attributes ------------------===//

#include "moe/Dialect/MoeGPU/IR/MoeGPUDialect.h"
#include "moe/Dialect/MoeGPU/IR/KernelLimitChecks.h"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::moegpu;

#include "moe/Dialect/MoeGPU/IR/MoeGPUEnums.cpp.inc"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "moe/Dialect/MoeGPU/IR/MoeGPUAttrs.cpp.inc"

void MoeGPUDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "moe/Dialect/MoeGPU/IR/MoeGPUAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Discardable attributes: moegpu.target on modules, moegpu.param on
// launcher arguments, moegpu.static_tokens / moegpu.workspace on launchers.
//===----------------------------------------------------------------------===//

LogicalResult MoeGPUDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kTargetAttrName) {
    if (!isa<TargetAttr>(attr.getValue()))
      return op->emitError()
             << "'" << name << "' must be a #moegpu.target attribute";
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' belongs on a module";
    return success();
  }
  if (name == kStaticTokensAttrName || name == kMaxTokensAttrName) {
    auto value = dyn_cast<IntegerAttr>(attr.getValue());
    if (!value || !value.getType().isSignlessInteger(64) || value.getInt() < 0)
      return op->emitError() << "'" << name << "' must be a non-negative i64";
    return success();
  }
  if (name == kWorkspaceAttrName) {
    if (!isa<WorkspaceAttr>(attr.getValue()))
      return op->emitError()
             << "'" << name << "' must be a #moegpu.workspace attribute";
    return success();
  }
  if (name == kWorkspaceSizeOfAttrName) {
    auto launcher = dyn_cast<FlatSymbolRefAttr>(attr.getValue());
    if (!launcher)
      return op->emitError() << "'" << name << "' must name a launcher";
    Operation *parent = op->getParentOp();
    if (parent && !SymbolTable::lookupSymbolIn(parent, launcher.getAttr()))
      return op->emitError() << "'" << name << "' names " << launcher
                             << ", which is not in the module";
    return success();
  }
  return op->emitError() << "unknown moegpu attribute '" << name << "'";
}

LogicalResult MoeGPUDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                      unsigned argIndex,
                                                      NamedAttribute attr) {
  if (attr.getName() != kParamAttrName)
    return op->emitError() << "unknown moegpu argument attribute '"
                           << attr.getName().getValue() << "'";
  if (!isa<ParamAttr>(attr.getValue()))
    return op->emitError() << "argument #" << argIndex << " '" << kParamAttrName
                           << "' must be a #moegpu.param attribute";
  return success();
}

//===----------------------------------------------------------------------===//
// TargetAttr
//===----------------------------------------------------------------------===//

std::string mlir::moegpu::cElementTypeName(Type type) {
  if (type.isF32())
    return "float";
  if (type.isBF16())
    return "__nv_bfloat16";
  if (type.isF16())
    return "__half";
  if (type.isF64())
    return "double";
  if (type.isInteger(1))
    return "bool";
  if (type.isInteger(8))
    return "int8_t";
  if (isa<Float8E4M3FNType>(type))
    return "uint8_t"; // e4m3 bits; the kernels decode them
  if (type.isInteger(32))
    return "int32_t";
  if (type.isInteger(64) || type.isIndex())
    return "int64_t";
  return "<unsupported>";
}

const ::moe::limits::Target *TargetAttr::getInfo() const {
  return lookupTarget(getName());
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name) {
  if (!lookupTarget(name))
    return emitError() << "unknown target '" << name
                       << "' (KernelLimits.td has " << targetNames() << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// RegimesAttr: `<` `[` (bound `->` value),* `]` `,` otherwise `>`
//===----------------------------------------------------------------------===//

Attribute RegimesAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> bounds, values;
  int64_t otherwise = 0;
  auto parseEntry = [&]() -> ParseResult {
    int64_t bound, value;
    if (parser.parseInteger(bound) || parser.parseArrow() ||
        parser.parseInteger(value))
      return failure();
    bounds.push_back(bound);
    values.push_back(value);
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     parseEntry) ||
      parser.parseComma() || parser.parseInteger(otherwise) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    bounds, values, otherwise);
}

void RegimesAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  for (auto [i, bound] : llvm::enumerate(getBounds())) {
    if (i)
      printer << ", ";
    printer << bound << " -> " << getValues()[i];
  }
  printer << "], " << getOtherwise() << ">";
}

LogicalResult RegimesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> bounds,
                                  ArrayRef<int64_t> values, int64_t otherwise) {
  if (bounds.size() != values.size())
    return emitError() << "regimes need one value per bound";
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (bounds[i] < 0)
      return emitError() << "regime bound " << bounds[i]
                         << " must not be negative";
    if (i && bounds[i] <= bounds[i - 1])
      return emitError() << "regime bounds must increase (" << bounds[i - 1]
                         << " then " << bounds[i] << ")";
  }
  return success();
}

int64_t RegimesAttr::lookup(int64_t rows) const {
  for (auto [bound, value] : llvm::zip(getBounds(), getValues()))
    if (rows <= bound)
      return value;
  return getOtherwise();
}

int64_t RegimesAttr::getMaxValue() const {
  int64_t best = getOtherwise();
  for (int64_t value : getValues())
    best = std::max(best, value);
  return best;
}

//===----------------------------------------------------------------------===//
// GemmConfigAttr:
//   `<` family `,` `tile` `=` `[` m `,` n `,` k `]` `,` `stages` `=` s `,`
//   `store` `=` store (`,` `split_k` `=` regimes)? `>`
//===----------------------------------------------------------------------===//

Attribute GemmConfigAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef familyName, storeName;
  SmallVector<int64_t> tile;
  int64_t stages = 0;
  RegimesAttr splitK;
  if (parser.parseLess() || parser.parseKeyword(&familyName))
    return {};
  std::optional<GemmFamily> family = symbolizeGemmFamily(familyName);
  if (!family) {
    parser.emitError(loc) << "expected GEMM family 'wgmma' or 'mma_sync', got '"
                          << familyName << "'";
    return {};
  }
  auto parseTileEntry = [&]() -> ParseResult {
    return parser.parseInteger(tile.emplace_back());
  };
  if (parser.parseComma() || parser.parseKeyword("tile") ||
      parser.parseEqual() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     parseTileEntry) ||
      parser.parseComma() || parser.parseKeyword("stages") ||
      parser.parseEqual() || parser.parseInteger(stages) ||
      parser.parseComma() || parser.parseKeyword("store") ||
      parser.parseEqual())
    return {};
  SMLoc storeLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&storeName))
    return {};
  std::optional<GemmStore> store = symbolizeGemmStore(storeName);
  if (!store) {
    parser.emitError(storeLoc)
        << "expected GEMM store 'tma' or 'registers', got '" << storeName
        << "'";
    return {};
  }
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("split_k") || parser.parseEqual() ||
        parser.parseAttribute(splitK))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *family, tile, stages, *store, splitK);
}

void GemmConfigAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyGemmFamily(getFamily()) << ", tile = [";
  llvm::interleaveComma(getTile(), printer);
  printer << "], stages = " << getStages()
          << ", store = " << stringifyGemmStore(getStore());
  if (getSplitK())
    printer << ", split_k = " << getSplitK();
  printer << ">";
}

LogicalResult
GemmConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       GemmFamily family, ArrayRef<int64_t> tile,
                       int64_t stages, GemmStore store, RegimesAttr splitK) {
  using namespace ::moe::limits;
  if (tile.size() != 3)
    return emitError() << "a GEMM tile is [rows, weight rows, k], got "
                       << tile.size() << " sizes";
  if (family == GemmFamily::mma_sync) {
    if (tile[0] != GemmRowTile || tile[1] != MmaTileN || tile[2] != MmaTileK)
      return emitError() << "the mma_sync GEMM's tile is [" << GemmRowTile
                         << ", " << MmaTileN << ", " << MmaTileK << "]";
    if (stages != MmaStages)
      return emitError() << "the mma_sync GEMM has " << MmaStages << " stages";
    if (store != GemmStore::registers)
      return emitError() << "the mma_sync GEMM stores from registers";
    if (splitK)
      return emitError() << "the mma_sync GEMM does not split K";
    return success();
  }
  // The FP8 GEMM's tile (the op says whether its operands are e4m3).
  if (tile[0] == Fp8TileRows &&
      (tile[1] == Fp8TileCols || tile[1] == Fp8WideTileCols) &&
      tile[2] == Fp8Block) {
    if (stages < 2 || stages > Fp8MaxStages)
      return emitError() << "the FP8 wgmma GEMM takes 2 to " << Fp8MaxStages
                         << " stages, got " << stages;
    if (store != GemmStore::registers || splitK)
      return emitError() << "the FP8 wgmma GEMM stores from registers and "
                            "does not split K";
    return success();
  }
  // Rows first: the division keeps a huge weight-row tile from overflowing.
  if (tile[2] != WgmmaTileK || (tile[0] != 128 && tile[0] != 256) ||
      tile[1] != WgmmaTileElements / tile[0])
    return emitError() << "the wgmma GEMM's tile is [128, 256, " << WgmmaTileK
                       << "] or [256, 128, " << WgmmaTileK << "] (FP8: ["
                       << Fp8TileRows << ", " << Fp8TileCols << " or "
                       << Fp8WideTileCols << ", " << Fp8Block << "])";
  if (stages < 2 || stages > WgmmaMaxStages)
    return emitError() << "the wgmma GEMM takes 2 to " << WgmmaMaxStages
                       << " stages, got " << stages;
  if (splitK) {
    if (splitK.getOtherwise() < 1)
      return emitError() << "split_k regimes must split at least once";
    SmallVector<int64_t> splits(splitK.getValues());
    splits.push_back(splitK.getOtherwise());
    for (int64_t s : splits)
      if (s < 1 || s > SplitMaxSplits || !llvm::isPowerOf2_64(s))
        return emitError() << "split_k splits must be powers of two from 1 to "
                           << SplitMaxSplits << ", got " << s;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ParamAttr: `<` role `,` name (`,` `rows` `=` map)? (`,` `type` `=` type)? `>`
//===----------------------------------------------------------------------===//

Attribute ParamAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef roleName;
  std::string name;
  AffineMapAttr rows;
  Type type;
  if (parser.parseLess() || parser.parseKeyword(&roleName))
    return {};
  std::optional<ParamRole> role = symbolizeParamRole(roleName);
  if (!role) {
    parser.emitError(loc) << "expected a parameter role (input, output, "
                             "workspace, num_tokens, stream), got '"
                          << roleName << "'";
    return {};
  }
  if (parser.parseComma() || parser.parseString(&name))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "rows" && !rows) {
      if (parser.parseAttribute(rows))
        return {};
    } else if (key == "type" && !type) {
      if (parser.parseType(type))
        return {};
    } else {
      parser.emitError(keyLoc)
          << "expected 'rows' or 'type' (once each), got '" << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *role, name, rows, type);
}

void ParamAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyParamRole(getRole()) << ", \"";
  llvm::printEscapedString(getName(), printer.getStream());
  printer << "\"";
  if (getRows())
    printer << ", rows = " << getRows();
  if (getType())
    printer << ", type = " << getType();
  printer << ">";
}

LogicalResult ParamAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                ParamRole role, StringRef name,
                                AffineMapAttr rows, Type type) {
  if (name.empty() || !(llvm::isAlpha(name[0]) || name[0] == '_') ||
      !llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; }))
    return emitError() << "parameter name '" << name
                       << "' is not a C identifier";
  if (rows && role != ParamRole::input && role != ParamRole::output)
    return emitError() << "only inputs and outputs have rows";
  if (rows) {
    AffineMap map = rows.getValue();
    if (map.getNumDims() != 0 || map.getNumSymbols() != 1 ||
        map.getNumResults() != 1)
      return emitError() << "parameter rows must be a map ()[s0] -> (rows) "
                            "of the token count, got "
                         << rows;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WorkspaceAttr
//===----------------------------------------------------------------------===//

LogicalResult
WorkspaceAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      StringRef function, int64_t alignment,
                      ArrayRef<BufferAttr> buffers) {
  if (function.empty())
    return emitError() << "a workspace plan names its size function";
  if (alignment < 1 || !llvm::isPowerOf2_64(alignment))
    return emitError() << "workspace alignment " << alignment
                       << " must be a power of two";
  for (auto [i, buffer] : llvm::enumerate(buffers)) {
    int64_t previous = -1;
    for (int64_t j : buffer.getAfter()) {
      if (j <= previous || j >= static_cast<int64_t>(i))
        return emitError() << "buffer #" << i << " ('" << buffer.getName()
                           << "') is placed after buffer #" << j
                           << ": 'after' lists earlier buffers, increasing";
      previous = j;
    }
  }
  return success();
}
