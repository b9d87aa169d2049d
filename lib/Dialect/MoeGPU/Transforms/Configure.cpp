//===- Configure.cpp - the moegpu-configure pass --------------------------===//
//
// moe ops -> moegpu kernel ops for one target. Each function becomes a
// launcher: its arguments get their ABI (moegpu.param), its results become
// output arguments, a num_tokens argument carries the token count from
// which every dynamic size is computed. Then one rewrite pattern per
// semantic op (routing: per fusion group) makes the kernel ops with their
// configuration, in destination style, their intermediates tensor.empty.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/Moe/IR/MoeOps.h"
#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/Moe/Transforms/Passes.h"
#include "moe/Dialect/MoeGPU/IR/KernelLimitChecks.h"
#include "moe/Dialect/MoeGPU/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <numeric>

namespace mlir::moegpu {
#define GEN_PASS_DEF_MOEGPUCONFIGURE
#include "moe/Dialect/MoeGPU/Transforms/Passes.h.inc"
} // namespace mlir::moegpu

using namespace mlir;
using namespace mlir::moegpu;
namespace limits = ::moe::limits;

namespace {
/// What the pass options and the target decide for every op.
struct Options {
  const limits::Target *target;
  bool mmaOnly;        // gemm-family=mma_sync
  bool registerStores; // gemm-store=registers
  int64_t tileChunk;
  bool fuseGather;
};
} // namespace

//===----------------------------------------------------------------------===//
// The launcher ABI
//===----------------------------------------------------------------------===//

/// The name of operand `index` of a moe op, as a launcher parameter.
static StringRef operandName(Operation *op, unsigned index) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case<mlir::moe::GateOp>(
          [&](auto) -> StringRef { return index == 0 ? "input" : "router"; })
      .Case<mlir::moe::ScoreOp>([](auto) -> StringRef { return "logits"; })
      .Case<mlir::moe::RouteOp>(
          [&](auto) -> StringRef { return index == 0 ? "scores" : "bias"; })
      .Case<mlir::moe::ExpertCountsOp, mlir::moe::DispatchLayoutOp>(
          [](auto) -> StringRef { return "ids"; })
      .Case<mlir::moe::BalanceLossOp, mlir::moe::BalanceLossGradOp>(
          [&](auto) -> StringRef { return index == 0 ? "scores" : "ids"; })
      .Case<mlir::moe::BiasUpdateOp>(
          [&](auto) -> StringRef { return index == 0 ? "bias" : "counts"; })
      .Case<mlir::moe::ExpertFFNOp>(
          [&](mlir::moe::ExpertFFNOp ffn) -> StringRef {
            // The ODS operand group holding `index`: rows, row scales,
            // offsets, gate_up, down, their scales.
            static constexpr StringRef routed[] = {
                "rows", "row_scales",     "offsets",    "gate_up",
                "down", "gate_up_scales", "down_scales"};
            static constexpr StringRef shared[] = {"rows",
                                                   "row_scales",
                                                   "offsets",
                                                   "shared_gate_up",
                                                   "shared_down",
                                                   "shared_gate_up_scales",
                                                   "shared_down_scales"};
            for (unsigned group = 0; group < 7; ++group) {
              auto [start, length] = ffn.getODSOperandIndexAndLength(group);
              if (index >= start && index < start + length)
                return ffn.getOffsets() ? routed[group] : shared[group];
            }
            return "";
          })
      .Case<mlir::moe::PermuteOp>([&](mlir::moe::PermuteOp p) -> StringRef {
        if (index == 0)
          return "input";
        if (p.getScales() && index == 1)
          return "scales";
        unsigned rest = index - (p.getScales() ? 2 : 1);
        return rest == 0 ? "ids" : "weights";
      })
      .Case<mlir::moe::QuantizeOp>([](auto) -> StringRef { return "input"; })
      .Case<mlir::moe::CombineOp>([&](auto) -> StringRef {
        return index == 0   ? "expert_out"
               : index == 1 ? "row_map"
               : index == 2 ? "weights"
                            : "shared";
      })
      .Default([](Operation *) { return ""; });
}

/// The name of a moe op's result, as a launcher parameter.
static StringRef resultName(OpResult result) {
  unsigned index = result.getResultNumber();
  return llvm::TypeSwitch<Operation *, StringRef>(result.getOwner())
      .Case<mlir::moe::GateOp>([](auto) -> StringRef { return "logits"; })
      .Case<mlir::moe::ScoreOp>([](auto) -> StringRef { return "scores"; })
      .Case<mlir::moe::RouteOp>(
          [&](auto) -> StringRef { return index == 0 ? "ids" : "weights"; })
      .Case<mlir::moe::ExpertCountsOp>(
          [](auto) -> StringRef { return "counts"; })
      .Case<mlir::moe::BalanceLossOp>([](auto) -> StringRef { return "loss"; })
      .Case<mlir::moe::BalanceLossGradOp>(
          [](auto) -> StringRef { return "grad"; })
      .Case<mlir::moe::BiasUpdateOp>(
          [](auto) -> StringRef { return "new_bias"; })
      .Case<mlir::moe::DispatchLayoutOp>([&](auto) -> StringRef {
        return index == 0   ? "tokens_per_expert"
               : index == 1 ? "tokens_per_rank"
               : index == 2 ? "tokens_per_node"
                            : "is_token_in_rank";
      })
      .Case<mlir::moe::PermuteOp>([&](auto) -> StringRef {
        return index == 0   ? "rows"
               : index == 1 ? "row_map"
               : index == 2 ? "offsets"
                            : "row_scales";
      })
      .Case<mlir::moe::QuantizeOp>(
          [&](auto) -> StringRef { return index == 0 ? "values" : "scales"; })
      .Case<mlir::moe::CombineOp>([](auto) -> StringRef { return "output"; })
      .Case<mlir::moe::ExpertFFNOp>(
          [](auto) -> StringRef { return "expert_out"; })
      .Default([](Operation *) { return ""; });
}

/// The rows of a semantic value's dynamic leading dimension as a multiple
/// of the token count: a permute's rows (and the expert outputs of them)
/// have T·k, everything else T.
static int64_t semanticRowsFactor(Value value) {
  if (auto permute = value.getDefiningOp<mlir::moe::PermuteOp>())
    if (value == permute.getRows())
      return permute.getIds().getType().getDimSize(1);
  if (auto ffn = value.getDefiningOp<mlir::moe::ExpertFFNOp>())
    return semanticRowsFactor(ffn.getRows());
  return 1;
}

/// The operand of a moe op whose leading dimension is the token count.
static Value tokenOperand(Operation *op) {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<mlir::moe::GateOp, mlir::moe::ScoreOp, mlir::moe::RouteOp,
            mlir::moe::DispatchLayoutOp, mlir::moe::BalanceLossOp,
            mlir::moe::BalanceLossGradOp, mlir::moe::ExpertCountsOp,
            mlir::moe::QuantizeOp>(
          [](Operation *o) { return o->getOperand(0); })
      .Case<mlir::moe::PermuteOp>(
          [](mlir::moe::PermuteOp p) { return p.getIds(); })
      .Case<mlir::moe::CombineOp>(
          [](mlir::moe::CombineOp c) { return c.getRowMap(); })
      .Default([](Operation *) { return Value(); });
}

/// The token-count argument of the launcher holding `op`.
static Value numTokensOf(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  for (BlockArgument arg : func.getArguments())
    if (auto param = func.getArgAttrOfType<ParamAttr>(
            arg.getArgNumber(), MoeGPUDialect::kParamAttrName))
      if (param.getRole() == ParamRole::num_tokens)
        return arg;
  return Value();
}

/// A constant of all-zero bits (what a balance loss or its gradient with
/// alpha = 0 folds to), which cudaMemsetAsync writes.
static bool isZeros(Value v) {
  DenseElementsAttr value;
  if (!matchPattern(v, m_Constant(&value)) || !value.isSplat())
    return false;
  Attribute splat = value.getSplatValue<Attribute>();
  if (auto f = dyn_cast<FloatAttr>(splat))
    return f.getValue().isPosZero();
  if (auto i = dyn_cast<IntegerAttr>(splat))
    return i.getValue().isZero();
  return false;
}

namespace {
/// Gives a function of moe ops its launcher ABI: names, roles and rows of
/// its parameters, an output argument per result and the num_tokens
/// argument.
class LauncherABI {
public:
  explicit LauncherABI(func::FuncOp func) : func(func) {}

  LogicalResult run() {
    MLIRContext *ctx = func.getContext();
    FunctionType type = func.getFunctionType();
    for (Type t :
         llvm::concat<const Type>(type.getInputs(), type.getResults())) {
      auto tensor = dyn_cast<RankedTensorType>(t);
      if (!tensor)
        return func.emitError() << "a CUDA launcher takes and returns ranked "
                                   "tensors, not "
                                << t;
      for (int64_t d = 1; d < tensor.getRank(); ++d) {
        if (tensor.isDynamicDim(d))
          return func.emitError() << "only the token dimension (dim 0) may be "
                                     "dynamic in a CUDA launcher, not in "
                                  << t;
        // A kernel grid over an empty hidden size or expert width has no
        // blocks (and the tile arithmetic divides by such sizes).
        if (tensor.getDimSize(d) == 0)
          return func.emitError() << "only the token dimension (dim 0) may be "
                                     "empty in a CUDA launcher, not in "
                                  << t;
      }
      // A function without moe ops (returning its input, say) has no op
      // whose verifier bounds its sizes; the launcher's copies need them.
      if (failed(mlir::moe::verifyTensorBytes(func, "a launcher's tensor",
                                              tensor.getShape(),
                                              tensor.getElementType())))
        return failure();
    }
    // Inputs and repeated results are copied into their outputs, folded
    // zeros (alpha = 0) cleared (bindOutputs); the rest come from moe ops.
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      if (!isa<BlockArgument>(v) && !isZeros(v) &&
          !isa_and_nonnull<mlir::moe::MoeDialect>(
              v.getDefiningOp()->getDialect()))
        return ret.emitError() << "result #" << i
                               << " is not computed by a moe op, nor an "
                                  "input or zeros (which the launcher "
                                  "copies or clears)";

    // Names and rows of the inputs from their first moe user.
    unsigned numInputs = type.getNumInputs();
    SmallVector<std::string> names(numInputs);
    SmallVector<int64_t> factors(numInputs, 1);
    std::optional<int64_t> staticTokens;
    for (Operation &op : func.getBody().front().without_terminator()) {
      for (auto [i, v] : llvm::enumerate(op.getOperands()))
        if (auto arg = dyn_cast<BlockArgument>(v))
          if (names[arg.getArgNumber()].empty()) {
            names[arg.getArgNumber()] = operandName(&op, i).str();
            // A combine's expert rows come from a permute: T*K of them.
            if (auto combine = dyn_cast<mlir::moe::CombineOp>(op);
                combine && i == 0)
              factors[arg.getArgNumber()] =
                  combine.getRowMap().getType().getDimSize(1);
          }
      if (Value tokens = tokenOperand(&op)) {
        int64_t t = cast<RankedTensorType>(tokens.getType()).getDimSize(0);
        if (!ShapedType::isDynamic(t))
          staticTokens = t;
      }
    }

    llvm::StringMap<unsigned> used;
    auto unique = [&](std::string name, StringRef fallback, unsigned i) {
      if (name.empty())
        name = (fallback + Twine(i)).str();
      unsigned n = used[name]++;
      return n ? name + std::to_string(n) : name;
    };
    auto param = [&](ParamRole role, std::string name, Type t, int64_t factor) {
      AffineMapAttr rows;
      auto tensor = dyn_cast<RankedTensorType>(t);
      if (tensor && tensor.getRank() > 0 && tensor.isDynamicDim(0))
        rows = AffineMapAttr::get(
            AffineMap::get(0, 1, getAffineSymbolExpr(0, ctx) * factor, ctx));
      return ParamAttr::get(ctx, role, name, rows, Type());
    };
    for (unsigned i = 0; i < numInputs; ++i)
      func.setArgAttr(i, MoeGPUDialect::kParamAttrName,
                      param(ParamRole::input, unique(names[i], "arg", i),
                            type.getInput(i), factors[i]));
    // An output argument per result, then the token count.
    Location loc = func.getLoc();
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto result = dyn_cast<OpResult>(v);
      bool fromMoe =
          result && isa<mlir::moe::MoeDialect>(result.getOwner()->getDialect());
      std::string name =
          unique(fromMoe ? resultName(result).str() : "", "result", i);
      auto arg = dyn_cast<BlockArgument>(v);
      int64_t factor =
          arg ? factors[arg.getArgNumber()] : semanticRowsFactor(v);
      unsigned at = func.getNumArguments();
      if (failed(func.insertArgument(
              at, v.getType(),
              DictionaryAttr::get(ctx,
                                  {NamedAttribute(MoeGPUDialect::kParamAttrName,
                                                  param(ParamRole::output, name,
                                                        v.getType(), factor))}),
              loc)))
        return failure();
    }
    if (failed(func.insertArgument(
            func.getNumArguments(), IndexType::get(ctx),
            DictionaryAttr::get(
                ctx, {NamedAttribute(MoeGPUDialect::kParamAttrName,
                                     ParamAttr::get(ctx, ParamRole::num_tokens,
                                                    "num_tokens",
                                                    AffineMapAttr(), Type()))}),
            loc)))
      return failure();
    if (staticTokens)
      func->setAttr(MoeGPUDialect::kStaticTokensAttrName,
                    IntegerAttr::get(IntegerType::get(ctx, 64), *staticTokens));
    return success();
  }

private:
  func::FuncOp func;
};
} // namespace

//===----------------------------------------------------------------------===//
// Sizes
//===----------------------------------------------------------------------===//

static Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// `value` as an index computation of the launcher's token count `tokens`
/// for an affine function of it (s0 times constants, plus constants,
/// ceildiv and floordiv by constants).
static Value expandRows(OpBuilder &b, Location loc, AffineExpr expr,
                        Value tokens) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return indexConstant(b, loc, c.getValue());
  if (isa<AffineSymbolExpr>(expr))
    return tokens;
  auto bin = cast<AffineBinaryOpExpr>(expr);
  Value lhs = expandRows(b, loc, bin.getLHS(), tokens);
  Value rhs = expandRows(b, loc, bin.getRHS(), tokens);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, loc, lhs, rhs);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, loc, lhs, rhs);
  case AffineExprKind::CeilDiv:
    return arith::CeilDivSIOp::create(b, loc, lhs, rhs);
  case AffineExprKind::FloorDiv:
    return arith::DivSIOp::create(b, loc, lhs, rhs);
  default:
    return arith::RemSIOp::create(b, loc, lhs, rhs);
  }
}

/// The leading dimension of a tensor as an index value of the token count
/// `tokens`: a constant when static, else from the argument's rows, the
/// init it is written into, or the semantic op that makes it.
static Value rowsOf(OpBuilder &b, Location loc, Value value, Value tokens) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(0))
    return indexConstant(b, loc, type.getDimSize(0));
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto param = func.getArgAttrOfType<ParamAttr>(
        arg.getArgNumber(), MoeGPUDialect::kParamAttrName);
    if (param && param.getRows())
      return expandRows(b, loc, param.getRows().getValue().getResult(0),
                        tokens);
    return tokens;
  }
  Operation *def = value.getDefiningOp();
  if (auto empty = dyn_cast<tensor::EmptyOp>(def))
    return empty.getDynamicSize(0);
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(def))
    return rowsOf(b, loc, dps.getTiedOpOperand(cast<OpResult>(value))->get(),
                  tokens);
  int64_t factor = semanticRowsFactor(value);
  if (factor == 1)
    return tokens;
  return arith::MulIOp::create(b, loc, tokens, indexConstant(b, loc, factor));
}

/// tensor.empty of `type` whose dynamic leading dimension is `rows`.
static Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                         Type element, Value rows = Value()) {
  auto type = RankedTensorType::get(shape, element);
  SmallVector<Value> dynamic;
  if (type.getRank() && type.isDynamicDim(0))
    dynamic.push_back(rows);
  return tensor::EmptyOp::create(b, loc, type, dynamic);
}

/// The static leading size that goes with `rows` (dynamic unless constant).
static int64_t staticSize(Value rows) {
  if (auto c = rows.getDefiningOp<arith::ConstantIndexOp>())
    return c.value();
  return ShapedType::kDynamic;
}

/// ceil(rows / d) and rows * m as index values (folded when static).
static Value ceilDiv(OpBuilder &b, Location loc, Value rows, int64_t d) {
  int64_t s = staticSize(rows);
  if (!ShapedType::isDynamic(s))
    return indexConstant(b, loc, llvm::divideCeil(s, d));
  return arith::CeilDivSIOp::create(b, loc, rows, indexConstant(b, loc, d));
}
static Value times(OpBuilder &b, Location loc, Value rows, int64_t m) {
  int64_t s = staticSize(rows);
  if (!ShapedType::isDynamic(s))
    return indexConstant(b, loc, s * m);
  if (m == 1)
    return rows;
  return arith::MulIOp::create(b, loc, rows, indexConstant(b, loc, m));
}

//===----------------------------------------------------------------------===//
// GEMM configuration
//===----------------------------------------------------------------------===//

namespace {
/// A GEMM's shape: experts, output columns, reduction, epilogue, output.
struct GemmShape {
  int64_t experts, n, k;
  bool dual;
  Type out;
};
} // namespace

/// Whether the wgmma kernel takes a shape: whole tiles of columns (256
/// weight rows; gate/up pairs them into 128 outputs) and whole reduction
/// steps.
static bool wgmmaTakes(const GemmShape &g) {
  int64_t cols = limits::WgmmaTileElements / limits::GemmRowTile;
  int64_t outCols = g.dual ? cols / 2 : cols;
  return g.n % outCols == 0 && g.k % limits::WgmmaTileK == 0;
}

/// Split-K of a single-expert wgmma GEMM with kTiles reduction steps and
/// columnTiles column tiles: the most splits (a power of two that divides
/// kTiles, at most SplitMaxSplits) that keep ceil(rows / 128) x
/// columnTiles x splits within SplitTargetBlocks, as regimes over rows.
static RegimesAttr splitRegimes(MLIRContext *ctx, int64_t kTiles,
                                int64_t columnTiles) {
  int64_t most = 1;
  while (2 * most <= limits::SplitMaxSplits && kTiles % (2 * most) == 0)
    most *= 2;
  SmallVector<int64_t> bounds, values;
  for (int64_t s = most; s >= 2; s /= 2) {
    int64_t tiles = limits::SplitTargetBlocks / (columnTiles * s);
    if (tiles < 1)
      continue;
    bounds.push_back(tiles * limits::GemmRowTile);
    values.push_back(s);
  }
  if (bounds.empty())
    return RegimesAttr();
  return RegimesAttr::get(ctx, bounds, values, 1);
}

/// How one GEMM of `shape` runs on `family`.
static GemmConfigAttr gemmConfig(MLIRContext *ctx, const Options &options,
                                 const GemmShape &shape, GemmFamily family) {
  if (family == GemmFamily::mma_sync)
    return GemmConfigAttr::get(
        ctx, GemmFamily::mma_sync,
        {limits::GemmRowTile, limits::MmaTileN, limits::MmaTileK},
        limits::MmaStages, GemmStore::registers, RegimesAttr());
  int64_t rows = limits::GemmRowTile;
  int64_t cols = limits::WgmmaTileElements / rows;
  int64_t stageBytes = (rows + cols) * limits::WgmmaTileK * 2;
  int64_t stages = std::min<int64_t>(
      limits::WgmmaMaxStages,
      (options.target->maxSharedBytes - limits::WgmmaSharedSlack - rows * 4) /
          stageBytes);
  int64_t outCols = shape.dual ? cols / 2 : cols;
  // TMA stores write boxes of one 128-byte swizzled row of bf16.
  bool tma = !options.registerStores && shape.out.isBF16() &&
             outCols % limits::WgmmaTileK == 0;
  RegimesAttr splitK;
  if (shape.experts == 1)
    splitK = splitRegimes(ctx, shape.k / limits::WgmmaTileK, shape.n / outCols);
  return GemmConfigAttr::get(
      ctx, GemmFamily::wgmma, {rows, cols, limits::WgmmaTileK}, stages,
      tma ? GemmStore::tma : GemmStore::registers, splitK);
}

/// The family of the GEMMs of one op (an FFN's two GEMMs share it, so its
/// numerics do not hang on one shape): wgmma where the target has it and
/// every shape is in whole wgmma tiles.
static GemmFamily gemmFamily(const Options &options,
                             ArrayRef<GemmShape> shapes) {
  if (options.mmaOnly || !options.target->wgmma ||
      !llvm::all_of(shapes, wgmmaTakes))
    return GemmFamily::mma_sync;
  return GemmFamily::wgmma;
}

namespace {
/// Builds the tile map and the GEMMs of one moe op.
struct GemmBuilder {
  OpBuilder &b;
  Location loc;
  const Options &options;
  Value tiles, rows;

  /// The tile map of `rows` rows of `experts` experts from `offsets`.
  void tileMap(Value offsets, int64_t experts, Value numRows) {
    rows = numRows;
    Value slots = arith::AddIOp::create(
        b, loc, ceilDiv(b, loc, rows, limits::GemmRowTile),
        indexConstant(b, loc, experts));
    Value init =
        emptyTensor(b, loc, {staticSize(slots), 4}, b.getI32Type(), slots);
    tiles = TileMapOp::create(b, loc, TypeRange{init.getType()}, offsets, rows,
                              ValueRange{init}, experts, limits::GemmRowTile,
                              options.tileChunk)
                .getResult(0);
  }

  /// One GEMM of `shape` reading `a` (row r or, with `gather`, row
  /// row_token[r] of `a`, which has `aRows` rows) into `out`.
  Value gemm(Value a, Value weight, const GemmShape &shape, GemmFamily family,
             Value out, Value rowToken = Value(), Value aRows = Value()) {
    MLIRContext *ctx = b.getContext();
    GemmConfigAttr config = gemmConfig(ctx, options, shape, family);
    SmallVector<Value> inits = {out};
    if (RegimesAttr split = config.getSplitK()) {
      // Partial sums: splits(rows) x rows rows of the f32 sums, none when
      // the GEMM does not split.
      int64_t width = shape.dual ? 2 * shape.n : shape.n;
      Value splits = regimeValue(split);
      Value one = indexConstant(b, loc, 1);
      Value isSplit =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, splits, one);
      Value partialRows = arith::SelectOp::create(
          b, loc, isSplit, arith::MulIOp::create(b, loc, splits, rows),
          indexConstant(b, loc, 0));
      inits.push_back(emptyTensor(b, loc, {ShapedType::kDynamic, width},
                                  b.getF32Type(), partialRows));
    }
    SmallVector<Type> types;
    for (Value v : inits)
      types.push_back(v.getType());
    auto op = GroupedGemmOp::create(
        b, loc, types, a, weight, tiles, rowToken, aRows, Value(), Value(),
        rows, inits, config,
        shape.dual ? GemmEpilogue::silu_mul : GemmEpilogue::none);
    return op.getResult(0);
  }

  /// The block-scaled FP8 GEMM of e4m3 `a` and `weight` with their scales
  /// into `out`: the wide FP8 tile where the output columns are whole
  /// tiles of it (the narrow one otherwise), as many stages as the
  /// target's shared memory holds.
  Value gemmFP8(Value a, Value aScales, Value weight, Value wScales, bool dual,
                Value out) {
    int64_t n = cast<ShapedType>(out.getType()).getDimSize(1);
    int64_t cols = limits::Fp8WideTileCols;
    if (n % (dual ? cols / 2 : cols) != 0)
      cols = limits::Fp8TileCols;
    int64_t stageBytes = (limits::Fp8TileRows + cols) * limits::Fp8Block;
    int64_t stages =
        std::min<int64_t>(limits::Fp8MaxStages,
                          (options.target->maxSharedBytes -
                           limits::WgmmaSharedSlack - limits::Fp8TileRows * 4) /
                              stageBytes);
    auto config =
        GemmConfigAttr::get(b.getContext(), GemmFamily::wgmma,
                            {limits::Fp8TileRows, cols, limits::Fp8Block},
                            stages, GemmStore::registers, RegimesAttr());
    return GroupedGemmOp::create(
               b, loc, TypeRange{out.getType()}, a, weight, tiles, Value(),
               Value(), aScales, wScales, rows, ValueRange{out}, config,
               dual ? GemmEpilogue::silu_mul : GemmEpilogue::none)
        .getResult(0);
  }

  /// act_quant of `rows` rows of `input` (with `rowToken`, gathered through
  /// the permute's map): the e4m3 values and the f32 scales.
  std::pair<Value, Value> quantize(Value input, bool ue8m0, Value rowToken,
                                   Value offsets, Value numRows) {
    int64_t width = cast<ShapedType>(input.getType()).getDimSize(1);
    int64_t n = staticSize(numRows);
    SmallVector<Value> inits = {
        emptyTensor(b, loc, {n, width}, b.getType<Float8E4M3FNType>(), numRows),
        emptyTensor(b, loc, {n, width / limits::Fp8Block}, b.getF32Type(),
                    numRows)};
    auto op = QuantizeOp::create(
        b, loc, ValueRange(inits).getTypes(), input, rowToken, offsets, numRows,
        inits, ue8m0 ? b.getUnitAttr() : UnitAttr(),
        GridPolicyAttr::get(b.getContext(), GridPolicy::persistent));
    return {op.getResult(0), op.getResult(1)};
  }

  /// The value of a regime table at `rows` rows.
  Value regimeValue(RegimesAttr table) {
    Value result = indexConstant(b, loc, table.getOtherwise());
    for (int64_t i = table.getBounds().size() - 1; i >= 0; --i) {
      Value within =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, rows,
                                indexConstant(b, loc, table.getBounds()[i]));
      result = arith::SelectOp::create(
          b, loc, within, indexConstant(b, loc, table.getValues()[i]), result);
    }
    return result;
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {
template <typename OpT> struct KernelPattern : OpRewritePattern<OpT> {
  KernelPattern(MLIRContext *ctx, const Options &options,
                PatternBenefit benefit = 1)
      : OpRewritePattern<OpT>(ctx, benefit), options(options) {}
  const Options &options;
};

/// The statistics a set of balance losses needs from the routing pass, or
/// none when they cannot share one set.
std::optional<mlir::moe::BalanceLossAttr>
sharedStats(ArrayRef<mlir::moe::BalanceLossAttr> configs) {
  using mlir::moe::LossKind;
  if (configs.empty())
    return std::nullopt;
  mlir::moe::BalanceLossAttr first = configs.front();
  bool normalized = first.getKind() == LossKind::sequence;
  int64_t devices = 0;
  for (mlir::moe::BalanceLossAttr c : configs) {
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
  return mlir::moe::BalanceLossAttr::get(
      first.getContext(), kind, APFloat(0.0f), first.getCounts(),
      first.getSeqLen(), devices, /*deviceLimit=*/0);
}

/// moe.score -> moe.route (+ moe.expert_counts of its ids, + balance losses
/// and gradients of the same scores) -> one moegpu.route (+ loss kernels).
struct RouteToKernel : KernelPattern<mlir::moe::RouteOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(mlir::moe::RouteOp route,
                                PatternRewriter &rewriter) const override {
    Value input = route.getScores();
    auto score = input.getDefiningOp<mlir::moe::ScoreOp>();
    // All counts of the routed ids become one init of the kernel.
    SmallVector<mlir::moe::ExpertCountsOp> countOps;
    for (Operation *user : route.getIds().getUsers())
      if (auto counts = dyn_cast<mlir::moe::ExpertCountsOp>(user))
        if (counts.getCounts().getType().getDimSize(0) == route.getNumExperts())
          countOps.push_back(counts);

    SmallVector<mlir::moe::BalanceLossOp> losses;
    SmallVector<mlir::moe::BalanceLossGradOp> grads;
    std::optional<mlir::moe::BalanceLossAttr> stats;
    if (score)
      stats = lossesOf(route, score, losses, grads);

    // The score fuses in when the route (and losses) are its only
    // consumers; otherwise the route reads the scores.
    mlir::moe::ScoreFuncAttr func;
    if (score && (stats || score->hasOneUse())) {
      input = score.getLogits();
      func = score.getFuncAttr();
    } else {
      stats.reset();
    }
    Location loc = route.getLoc();
    rewriter.setInsertionPoint(route);
    Value t = rowsOf(rewriter, loc, input, numTokensOf(route));
    int64_t numTokens = cast<RankedTensorType>(input.getType()).getDimSize(0);
    int64_t experts = route.getNumExperts(), k = route.getK();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    SmallVector<Value> inits = {
        emptyTensor(rewriter, loc, {numTokens, k}, i32, t),
        emptyTensor(rewriter, loc, {numTokens, k}, f32, t)};
    bool counts = !countOps.empty();
    if (counts)
      inits.push_back(emptyTensor(rewriter, loc, {experts}, i32));
    IntegerAttr chunkAttr;
    if (stats) {
      // Statistics rows of `chunk` tokens; a chunk must not straddle
      // sequences.
      int64_t seqLen = stats->getSeqLen();
      int64_t chunk = seqLen
                          ? std::gcd(seqLen, int64_t(limits::RouteStatsChunk))
                          : limits::RouteStatsChunk;
      chunkAttr = rewriter.getI64IntegerAttr(chunk);
      Value rows = ceilDiv(rewriter, loc, t, chunk);
      inits.push_back(emptyTensor(
          rewriter, loc, {staticSize(rows), 2 * experts + stats->getDevices()},
          f32, rows));
    }
    SmallVector<Type> types;
    for (Value v : inits)
      types.push_back(v.getType());
    auto kernel = RouteOp::create(
        rewriter, loc, types, input, route.getBias(), t, inits, func,
        route.getKAttr(), route.getGroupsAttr(), route.getGroupTopkAttr(),
        route.getGroupScoreAttr(), route.getNormalizeAttr(),
        route.getScaleAttr(), counts ? rewriter.getUnitAttr() : UnitAttr(),
        stats ? *stats : mlir::moe::BalanceLossAttr(), chunkAttr,
        GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent));

    if (stats)
      rewriteLosses(rewriter, kernel, score, route, losses, grads, t);
    for (mlir::moe::ExpertCountsOp c : countOps)
      rewriter.replaceOp(c, kernel.getResult(2));
    rewriter.replaceOp(route, {kernel.getResult(0), kernel.getResult(1)});
    if (score && score->use_empty())
      rewriter.eraseOp(score);
    return success();
  }

  /// The losses and gradients of `score` that can share the route's
  /// statistics, or none.
  static std::optional<mlir::moe::BalanceLossAttr>
  lossesOf(mlir::moe::RouteOp route, mlir::moe::ScoreOp score,
           SmallVectorImpl<mlir::moe::BalanceLossOp> &losses,
           SmallVectorImpl<mlir::moe::BalanceLossGradOp> &grads) {
    SmallVector<mlir::moe::BalanceLossAttr> configs;
    for (Operation *user : score->getUsers()) {
      if (user == route)
        continue;
      auto usesRoute = [&](Value ids, mlir::moe::BalanceLossAttr config) {
        return config.getCounts() == mlir::moe::CountSource::topk ||
               ids == route.getIds();
      };
      // The kernel takes the route's place: consumers must come after it.
      if (user->getBlock() != route->getBlock() ||
          !route->isBeforeInBlock(user))
        return std::nullopt;
      int64_t k = route.getK();
      if (auto loss = dyn_cast<mlir::moe::BalanceLossOp>(user)) {
        if (!usesRoute(loss.getIds(), loss.getConfig()) ||
            loss.getIds().getType().getDimSize(1) != k)
          return std::nullopt;
        losses.push_back(loss);
        configs.push_back(loss.getConfig());
      } else if (auto grad = dyn_cast<mlir::moe::BalanceLossGradOp>(user)) {
        if (!usesRoute(grad.getIds(), grad.getConfig()) ||
            grad.getFunc() != score.getFunc() ||
            grad.getIds().getType().getDimSize(1) != k)
          return std::nullopt;
        grads.push_back(grad);
        configs.push_back(grad.getConfig());
      } else {
        return std::nullopt;
      }
    }
    std::optional<mlir::moe::BalanceLossAttr> stats = sharedStats(configs);
    if (!stats) {
      losses.clear();
      grads.clear();
    }
    return stats;
  }

  /// The losses become reductions of the statistics, the gradients one
  /// pass over the logits.
  void rewriteLosses(PatternRewriter &rewriter, RouteOp kernel,
                     mlir::moe::ScoreOp score, mlir::moe::RouteOp route,
                     ArrayRef<mlir::moe::BalanceLossOp> losses,
                     ArrayRef<mlir::moe::BalanceLossGradOp> grads,
                     Value t) const {
    Value stats = kernel.getResults().back();
    int64_t experts = route.getNumExperts();
    int64_t numTokens = score.getLogits().getType().getDimSize(0);
    auto reduce = [&](Location loc, mlir::moe::BalanceLossAttr config) {
      // Per-sequence weights: T / seq_len sequences, or one (none for no
      // tokens).
      Value seqs;
      if (int64_t seqLen = config.getSeqLen())
        seqs =
            ShapedType::isDynamic(numTokens)
                ? Value(arith::DivSIOp::create(
                      rewriter, loc, t, indexConstant(rewriter, loc, seqLen)))
                : indexConstant(rewriter, loc, numTokens / seqLen);
      else
        seqs = ShapedType::isDynamic(numTokens)
                   ? Value(arith::MinSIOp::create(
                         rewriter, loc, t, indexConstant(rewriter, loc, 1)))
                   : indexConstant(rewriter, loc, numTokens > 0 ? 1 : 0);
      int64_t b = staticSize(seqs);
      Type f32 = rewriter.getF32Type();
      SmallVector<Value> inits = {
          emptyTensor(rewriter, loc, {}, f32),
          emptyTensor(rewriter, loc, {b, experts}, f32, seqs),
          emptyTensor(rewriter, loc, {b}, rewriter.getF64Type(), seqs)};
      SmallVector<Type> types;
      for (Value v : inits)
        types.push_back(v.getType());
      return LossFromStatsOp::create(rewriter, loc, types, stats, t, inits,
                                     config, route.getKAttr(),
                                     kernel.getChunkAttr());
    };
    // One reduction per configuration, made at its first consumer in
    // block order: a gradient reuses the weights its loss computed.
    SmallVector<Operation *> consumers;
    for (mlir::moe::BalanceLossOp loss : losses)
      consumers.push_back(loss);
    for (mlir::moe::BalanceLossGradOp grad : grads)
      consumers.push_back(grad);
    llvm::sort(consumers, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    llvm::DenseMap<Attribute, LossFromStatsOp> reductions;
    auto reductionFor = [&](Location loc, mlir::moe::BalanceLossAttr config) {
      LossFromStatsOp &op = reductions[config];
      if (!op)
        op = reduce(loc, config);
      return op;
    };
    for (Operation *consumer : consumers) {
      rewriter.setInsertionPoint(consumer);
      if (auto loss = dyn_cast<mlir::moe::BalanceLossOp>(consumer)) {
        rewriter.replaceOp(
            loss, reductionFor(loss.getLoc(), loss.getConfig())->getResult(0));
        continue;
      }
      auto grad = cast<mlir::moe::BalanceLossGradOp>(consumer);
      Location loc = grad.getLoc();
      Value g = reductionFor(loc, grad.getConfig())->getResult(1);
      Value init = emptyTensor(rewriter, loc, {numTokens, experts},
                               rewriter.getF32Type(), t);
      rewriter.replaceOpWithNewOp<LossGradOp>(
          grad, TypeRange{init.getType()}, grad.getFuncAttr(),
          score.getLogits(), g, t, ValueRange{init}, grad.getConfig(),
          GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent));
    }
  }
};

struct GateToKernel : KernelPattern<mlir::moe::GateOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::GateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType logits = op.getLogits().getType();
    Value rows = rowsOf(rewriter, loc, op.getInput(), numTokensOf(op));
    // The GEMM's output type rounds the f32 sums to the logits' precision.
    GemmShape shape{1, logits.getDimSize(1),
                    op.getInput().getType().getDimSize(1), false,
                    logits.getElementType()};
    GemmBuilder g{rewriter, loc, options, {}, {}};
    g.tileMap(Value(), 1, rows);
    Value out = emptyTensor(rewriter, loc, logits.getShape(),
                            logits.getElementType(), rows);
    rewriter.replaceOp(op, g.gemm(op.getInput(), op.getWeight(), shape,
                                  gemmFamily(options, shape), out));
    return success();
  }
};

/// A routed (with offsets) or shared expert FFN: tile map, gate/up with the
/// SiLU·mul epilogue into h, down into the output, and for routed experts
/// the rows no expert owns zeroed.
struct ExpertFFNToKernel : KernelPattern<mlir::moe::ExpertFFNOp> {
  using KernelPattern::KernelPattern;
  LogicalResult rewriteFP8(mlir::moe::ExpertFFNOp op,
                           PatternRewriter &rewriter) const;
  LogicalResult matchAndRewrite(mlir::moe::ExpertFFNOp op,
                                PatternRewriter &rewriter) const override {
    if (op.isFP8())
      return rewriteFP8(op, rewriter);
    Location loc = op.getLoc();
    RankedTensorType rowsType = op.getRows().getType();
    Type elem = rowsType.getElementType();
    int64_t experts = op.getGateUp().getType().getDimSize(0);
    int64_t hidden = rowsType.getDimSize(1);
    int64_t inter = op.getDown().getType().getDimSize(2);
    Value rows = rowsOf(rewriter, loc, op.getRows(), numTokensOf(op));
    GemmShape up{experts, inter, hidden, true, elem};
    GemmShape down{experts, hidden, inter, false, elem};
    GemmFamily family = gemmFamily(options, {up, down});
    GemmBuilder g{rewriter, loc, options, {}, {}};
    g.tileMap(op.getOffsets(), experts, rows);
    int64_t r = rowsType.getDimSize(0);
    Value h = g.gemm(op.getRows(), op.getGateUp(), up, family,
                     emptyTensor(rewriter, loc, {r, inter}, elem, rows));
    Value y = g.gemm(h, op.getDown(), down, family,
                     emptyTensor(rewriter, loc, {r, hidden}, elem, rows));
    if (Value offsets = op.getOffsets())
      y = ZeroTailOp::create(rewriter, loc, TypeRange{y.getType()}, offsets,
                             rows, ValueRange{y},
                             GridPolicyAttr::get(rewriter.getContext(),
                                                 GridPolicy::persistent))
              .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The FP8 FFN (ExpertsFp8Sm90.cuh): tile map, the block-scaled gate/up
/// GEMM writing h = silu(gate) * up in the output type, h quantised per
/// 128, the block-scaled down GEMM, unowned rows zeroed. wgmma targets
/// only (diagnoseLeftovers names the requirement).
LogicalResult ExpertFFNToKernel::rewriteFP8(mlir::moe::ExpertFFNOp op,
                                            PatternRewriter &rewriter) const {
  if (!options.target->wgmma || options.mmaOnly)
    return failure();
  Location loc = op.getLoc();
  RankedTensorType rowsType = op.getRows().getType();
  Type out = op.getType().getElementType();
  int64_t experts = op.getGateUp().getType().getDimSize(0);
  int64_t hidden = rowsType.getDimSize(1);
  int64_t inter = op.getDown().getType().getDimSize(2);
  Value rows = rowsOf(rewriter, loc, op.getRows(), numTokensOf(op));
  GemmBuilder g{rewriter, loc, options, {}, {}};
  g.tileMap(op.getOffsets(), experts, rows);
  int64_t r = rowsType.getDimSize(0);
  Value h = g.gemmFP8(op.getRows(), op.getRowScales(), op.getGateUp(),
                      op.getGateUpScales(), /*dual=*/true,
                      emptyTensor(rewriter, loc, {r, inter}, out, rows));
  auto [hq, hs] = g.quantize(h, op.getUe8m0(), Value(), Value(), rows);
  Value y = g.gemmFP8(hq, hs, op.getDown(), op.getDownScales(),
                      /*dual=*/false,
                      emptyTensor(rewriter, loc, {r, hidden}, out, rows));
  if (Value offsets = op.getOffsets())
    y = ZeroTailOp::create(
            rewriter, loc, TypeRange{y.getType()}, offsets, rows, ValueRange{y},
            GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent))
            .getResult(0);
  rewriter.replaceOp(op, y);
  return success();
}

/// moe.quantize (groups of 128) as the quantisation kernel.
struct QuantizeToKernel : KernelPattern<mlir::moe::QuantizeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getGroup() != limits::Fp8Block)
      return failure();
    Location loc = op.getLoc();
    Value rows = rowsOf(rewriter, loc, op.getInput(), numTokensOf(op));
    GemmBuilder g{rewriter, loc, options, {}, {}};
    auto [values, scales] =
        g.quantize(op.getInput(), op.getUe8m0(), Value(), Value(), rows);
    rewriter.replaceOp(op, {values, scales});
    return success();
  }
};

/// The input of an act_quant with groups of 128 that `values` are the
/// e4m3 values of (moe.quantize, or the kernel it became), and its ue8m0.
static std::optional<std::pair<Value, bool>> quantizedFrom(Value values) {
  if (auto q = values.getDefiningOp<mlir::moe::QuantizeOp>())
    if (q.getGroup() == limits::Fp8Block && values == q.getValues())
      return std::make_pair(q.getInput(), q.getUe8m0());
  if (auto q = values.getDefiningOp<QuantizeOp>())
    if (!q.getRowToken() && values == q.getResult(0))
      return std::make_pair(q.getInput(), q.getUe8m0());
  return std::nullopt;
}

struct PermuteToKernel : KernelPattern<mlir::moe::PermuteOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::PermuteOp op,
                                PatternRewriter &rewriter) const override {
    // e4m3 rows of an act_quant: the permute without its row copy, then
    // the quantisation gathering the unquantised rows through its map
    // (bitwise the same: act_quant works row by row).
    std::optional<std::pair<Value, bool>> source;
    if (op.getScales() && !(source = quantizedFrom(op.getInput())).has_value())
      return failure();
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    RankedTensorType ids = op.getIds().getType();
    int64_t k = ids.getDimSize(1), experts = op.getNumExperts();
    int64_t hidden = op.getInput().getType().getDimSize(1);
    Value t = rowsOf(rewriter, loc, op.getIds(), numTokensOf(op));
    Value slots = times(rewriter, loc, t, k);
    Value blocks =
        ceilDiv(rewriter, loc, slots, limits::PermuteAssignmentsPerBlock);
    int64_t n = ids.getDimSize(0), s = staticSize(slots);
    SmallVector<Value> inits = {
        emptyTensor(rewriter, loc, {n, k}, i32, t),
        emptyTensor(rewriter, loc, {experts + 1}, i32),
        emptyTensor(rewriter, loc, {s}, i32, slots),
        emptyTensor(rewriter, loc, {s}, i32, slots),
        emptyTensor(rewriter, loc, {staticSize(blocks), experts}, i32, blocks),
        emptyTensor(rewriter, loc, {experts + 1}, i32)};
    bool segment = op.getCapacityFactor() &&
                   op.getDropPolicy() == mlir::moe::DropPolicy::probs;
    if (segment)
      inits.push_back(emptyTensor(rewriter, loc, {s}, i32, slots));
    if (!source)
      inits.push_back(emptyTensor(rewriter, loc, {s, hidden},
                                  op.getInput().getType().getElementType(),
                                  slots));
    SmallVector<Type> types;
    for (Value v : inits)
      types.push_back(v.getType());
    auto kernel = PermuteOp::create(
        rewriter, loc, types, source ? source->first : op.getInput(),
        op.getIds(), op.getWeights(), t, inits, op.getCapacityFactorAttr(),
        op.getDropPolicyAttr(),
        rewriter.getI64IntegerAttr(limits::PermuteFusedPlaceBlocks),
        source ? rewriter.getUnitAttr() : UnitAttr(),
        GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent));
    if (!source) {
      rewriter.replaceOp(op, {kernel.getResults().back(), kernel.getResult(0),
                              kernel.getResult(1)});
      return success();
    }
    GemmBuilder g{rewriter, loc, options, {}, {}};
    auto [values, scales] =
        g.quantize(source->first, source->second, kernel.getResult(2),
                   kernel.getResult(1), slots);
    rewriter.replaceOp(
        op, {values, kernel.getResult(0), kernel.getResult(1), scales});
    return success();
  }
};

struct CombineToKernel : KernelPattern<mlir::moe::CombineOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::CombineOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tokens = numTokensOf(op);
    Value t = rowsOf(rewriter, loc, op.getRowMap(), tokens);
    Value rows = rowsOf(rewriter, loc, op.getExpertOut(), tokens);
    RankedTensorType out = op.getOutput().getType();
    Value init =
        emptyTensor(rewriter, loc, out.getShape(), out.getElementType(), t);
    rewriter.replaceOpWithNewOp<CombineOp>(
        op, TypeRange{init.getType()}, op.getExpertOut(), op.getRowMap(),
        op.getWeights(), op.getShared(), rows, t, ValueRange{init},
        GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent));
    return success();
  }
};

struct DispatchLayoutToKernel : KernelPattern<mlir::moe::DispatchLayoutOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::DispatchLayoutOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value t = rowsOf(rewriter, loc, op.getIds(), numTokensOf(op));
    SmallVector<Value> inits;
    for (Value result : op.getResults()) {
      auto type = cast<RankedTensorType>(result.getType());
      inits.push_back(emptyTensor(rewriter, loc, type.getShape(),
                                  type.getElementType(), t));
    }
    rewriter.replaceOpWithNewOp<DispatchLayoutOp>(
        op, ValueRange(inits).getTypes(), op.getIds(), t, inits,
        op.getTopologyAttr(),
        GridPolicyAttr::get(rewriter.getContext(), GridPolicy::persistent));
    return success();
  }
};

struct BiasUpdateToKernel : KernelPattern<mlir::moe::BiasUpdateOp> {
  using KernelPattern::KernelPattern;
  LogicalResult matchAndRewrite(mlir::moe::BiasUpdateOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getUpdated().getType();
    Value init = emptyTensor(rewriter, op.getLoc(), type.getShape(),
                             type.getElementType());
    rewriter.replaceOpWithNewOp<BiasUpdateOp>(
        op, TypeRange{init.getType()}, op.getBias(), op.getCounts(),
        ValueRange{init}, op.getRateAttr());
    return success();
  }
};

/// fuse-gather: a permute's rows that only a routed gate/up GEMM reads,
/// over the permute's offsets, are not copied; the GEMM gathers them from
/// the permute's input through row_token.
struct FuseGather : OpRewritePattern<GroupedGemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GroupedGemmOp gemm,
                                PatternRewriter &rewriter) const override {
    auto permute = gemm.getA().getDefiningOp<PermuteOp>();
    if (!permute || gemm.getRowToken() || !gemm.isDual() ||
        !gemm.getA().hasOneUse() || permute.getDeferredGather())
      return failure();
    auto tiles = gemm.getTiles().getDefiningOp<TileMapOp>();
    if (!tiles || tiles.getOffsets() != permute.getResult(1))
      return failure();
    if (gemm.getConfig().getFamily() == GemmFamily::wgmma &&
        gemm.getConfig().getTileRows() != limits::GemmRowTile)
      return failure();
    Location loc = permute.getLoc();
    rewriter.setInsertionPoint(permute);
    SmallVector<Value> inits(permute.getInits().drop_back());
    auto gathered = PermuteOp::create(
        rewriter, loc, ValueRange(inits).getTypes(), permute.getInput(),
        permute.getIds(), permute.getWeights(), permute.getNumTokens(), inits,
        permute.getCapacityFactorAttr(), permute.getDropPolicyAttr(),
        permute.getFusedPlaceBlocksAttr(), rewriter.getUnitAttr(),
        permute.getGridAttr());
    SmallVector<Value> replacements(gathered.getResults());
    replacements.push_back(Value());
    Value rowToken = gathered.getResult(2);
    Value aRows = permute.getNumTokens();
    rewriter.modifyOpInPlace(gemm, [&] {
      gemm.getAMutable().assign(permute.getInput());
      gemm.getRowTokenMutable().assign(rowToken);
      gemm.getARowsMutable().assign(aRows);
    });
    for (auto [old, repl] : llvm::zip(permute.getResults(), replacements))
      if (repl)
        rewriter.replaceAllUsesWith(old, repl);
    rewriter.eraseOp(permute);
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Writes each returned value into its output argument: the root init of
/// the chain of destinations that produces it becomes the argument.
static LogicalResult bindOutputs(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  unsigned first = func.getNumArguments() - 1 - ret.getNumOperands();
  Value tokens = func.getArguments().back();
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value arg = func.getArgument(first + i);
    // No kernel writes an input, a value returned before or folded zeros:
    // copy or clear the output.
    bool repeated = llvm::is_contained(ret.getOperands().take_front(i), v);
    if (isa<BlockArgument>(v) || repeated || isZeros(v)) {
      OpBuilder b(ret);
      Location loc = ret.getLoc();
      auto type = cast<RankedTensorType>(arg.getType());
      auto param = func.getArgAttrOfType<ParamAttr>(
          first + i, MoeGPUDialect::kParamAttrName);
      Value rows =
          param.getRows()
              ? expandRows(b, loc, param.getRows().getValue().getResult(0),
                           tokens)
              : indexConstant(b, loc, type.getRank() ? type.getDimSize(0) : 1);
      Value out =
          isZeros(v) && !repeated
              ? ZeroOp::create(b, loc, TypeRange{type}, rows, ValueRange{arg})
                    .getResult(0)
              : CopyOp::create(b, loc, TypeRange{type}, v, rows,
                               ValueRange{arg})
                    .getResult(0);
      ret.setOperand(i, out);
      continue;
    }
    Value root = v;
    while (auto result = dyn_cast<OpResult>(root)) {
      auto dps = dyn_cast<DestinationStyleOpInterface>(result.getOwner());
      if (!dps)
        break;
      root = dps.getTiedOpOperand(result)->get();
    }
    auto empty = root.getDefiningOp<tensor::EmptyOp>();
    if (!empty)
      return ret.emitError()
             << "result #" << i << " is not written by a kernel";
    // The init may be shared with other writes (after CSE): give this
    // chain its own.
    root.replaceUsesWithIf(arg, [&](OpOperand &use) {
      Value cursor = v;
      while (auto result = dyn_cast<OpResult>(cursor)) {
        auto dps = cast<DestinationStyleOpInterface>(result.getOwner());
        OpOperand *tied = dps.getTiedOpOperand(result);
        if (tied == &use)
          return true;
        cursor = tied->get();
      }
      return false;
    });
    if (empty->use_empty())
      empty->erase();
  }
  return success();
}

/// A moe op left after the patterns has no kernel: say why.
static LogicalResult diagnoseLeftovers(func::FuncOp func,
                                       const Options &options) {
  LogicalResult result = success();
  func.walk(
      [&](Operation *op) {
        if (!isa<mlir::moe::MoeDialect>(op->getDialect()))
          return;
        result = failure();
        if (isa<mlir::moe::ScoreOp, mlir::moe::ExpertCountsOp>(op))
          op->emitOpError()
              << "has no CUDA kernel of its own: it is computed by the routing "
                 "kernel of the moe.route that reads it";
        else if (isa<mlir::moe::BalanceLossOp, mlir::moe::BalanceLossGradOp>(
                     op))
          op->emitOpError()
              << "is not fused with a routing: the CUDA backend computes "
                 "balance losses from the statistics of the routing kernel "
                 "(losses whose scores come from a moe.score feeding a "
                 "moe.route, with compatible statistics)";
        else if (isa<mlir::moe::ExpertFFNOp>(op) &&
                 cast<mlir::moe::ExpertFFNOp>(op).isFP8())
          op->emitOpError()
              << "has FP8 (e4m3) experts, whose CUDA GEMMs need wgmma: target "
              << options.target->name
              << (options.mmaOnly ? " with gemm-family=mma_sync" : "")
              << " has no FP8 path (sm_90a: H100, H200); the CPU reference "
                 "(moe-lower-to-cpu) runs it";
        else if (isa<mlir::moe::QuantizeOp>(op))
          op->emitOpError()
              << "has no CUDA lowering for groups of "
              << cast<mlir::moe::QuantizeOp>(op).getGroup()
              << " (the kernel quantises groups of " << limits::Fp8Block << ")";
        else if (isa<mlir::moe::PermuteOp>(op) &&
                 cast<mlir::moe::PermuteOp>(op).getScales())
          op->emitOpError()
              << "has no CUDA lowering for e4m3 rows that are not the values "
                 "of a moe.quantize with groups of "
              << limits::Fp8Block
              << " (the kernel quantises the rows it gathers)";
        else
          op->emitOpError() << "has no CUDA lowering";
      });
  return result;
}

namespace {
struct MoeGPUConfigurePass
    : moegpu::impl::MoeGPUConfigureBase<MoeGPUConfigurePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Options options{lookupTarget(target), gemmFamily == "mma_sync",
                    gemmStore == "registers", tileChunk, fuseGather};
    if (!options.target) {
      module.emitError() << "unknown target '" << target
                         << "' (KernelLimits.td has " << targetNames() << ")";
      return signalPassFailure();
    }
    if (gemmFamily != "auto" && gemmFamily != "mma_sync") {
      module.emitError() << "gemm-family must be 'auto' or 'mma_sync', not '"
                         << gemmFamily << "'";
      return signalPassFailure();
    }
    if (gemmStore != "auto" && gemmStore != "registers") {
      module.emitError() << "gemm-store must be 'auto' or 'registers', not '"
                         << gemmStore << "'";
      return signalPassFailure();
    }
    if (failed(checkLimit([&] { return module.emitError(); },
                          Id::GemmMaxTileChunk, tileChunk,
                          "tile-chunk " + Twine(tileChunk))))
      return signalPassFailure();
    if (tileChunk < 1) {
      module.emitError() << "tile-chunk must be at least 1";
      return signalPassFailure();
    }

    // A moe.layer is its primitive ops.
    {
      RewritePatternSet expand(ctx);
      mlir::moe::populateExpandLayerPatterns(expand);
      if (failed(applyPatternsGreedily(module, std::move(expand))))
        return signalPassFailure();
    }
    // Every function becomes a launcher with a new signature (outputs,
    // num_tokens) and declarations go: a call between them has no lowering.
    WalkResult calls = module.walk([](CallOpInterface call) {
      call->emitOpError() << "has no CUDA lowering: a module for the GPU "
                             "holds launchers, which call no functions";
      return WalkResult::interrupt();
    });
    if (calls.wasInterrupted())
      return signalPassFailure();
    SmallVector<func::FuncOp> launchers;
    for (func::FuncOp func :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isDeclaration()) {
        func.erase();
        continue;
      }
      if (failed(LauncherABI(func).run()))
        return signalPassFailure();
      launchers.push_back(func);
    }
    module->setAttr(MoeGPUDialect::kTargetAttrName,
                    TargetAttr::get(ctx, options.target->name));

    RewritePatternSet patterns(ctx);
    patterns.add<RouteToKernel, GateToKernel, ExpertFFNToKernel,
                 PermuteToKernel, CombineToKernel, DispatchLayoutToKernel,
                 BiasUpdateToKernel, QuantizeToKernel>(ctx, options);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    if (fuseGather) {
      RewritePatternSet gather(ctx);
      gather.add<FuseGather>(ctx);
      if (failed(applyPatternsGreedily(module, std::move(gather))))
        return signalPassFailure();
    }
    for (func::FuncOp func : launchers)
      if (failed(diagnoseLeftovers(func, options)) || failed(bindOutputs(func)))
        return signalPassFailure();
    // The kernel ops' verifiers hold the kernels' limits (KernelLimits.td):
    // a size the kernels cannot take fails the pass here, located at the
    // moe op it came from, instead of leaving invalid IR behind.
    for (func::FuncOp func : launchers)
      if (failed(mlir::verify(func)))
        return signalPassFailure();
  }
};
} // namespace
