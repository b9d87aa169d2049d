//===- MoeGPUOps.cpp - moegpu operations ----------------------------------===//
//
// Verifiers of the kernel ops: destination style, shapes and element types
// (with the messages of the moe verifiers, MoeVerification.h), and the
// limits of the kernels (KernelLimits.td, through KernelLimitChecks.h), so
// that whatever verifies can be emitted.
//
//===----------------------------------------------------------------------===//

#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"
#include "moe/Dialect/Moe/IR/MoeVerification.h"
#include "moe/Dialect/MoeGPU/IR/KernelLimitChecks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moegpu;
namespace limits = ::moe::limits;

namespace mlir::moegpu {
/// Keywords of the moegpu enums for parse errors (found by parseKeyword).
inline StringRef expectedKeywords(GridPolicy) {
  return "'persistent' or 'exact'";
}
inline StringRef expectedKeywords(GemmEpilogue) {
  return "'none' or 'silu_mul'";
}
inline std::optional<GridPolicy> symbolizeKeyword(StringRef s, GridPolicy) {
  return symbolizeGridPolicy(s);
}
inline std::optional<GemmEpilogue> symbolizeKeyword(StringRef s, GemmEpilogue) {
  return symbolizeGemmEpilogue(s);
}
} // namespace mlir::moegpu

#include "moe/Dialect/MoeGPU/IR/MoeGPUInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static ShapedType shapeOf(Value v) { return cast<ShapedType>(v.getType()); }

/// Rank and element type of a shaped operand.
static LogicalResult expectType(Operation *op, StringRef name, Value value,
                                int64_t rank, ArrayRef<Type> elements) {
  ShapedType type = shapeOf(value);
  if (!type.hasRank() || type.getRank() != rank)
    return op->emitOpError()
           << "'" << name << "' must have rank " << rank << ", got " << type;
  if (!elements.empty() &&
      !llvm::is_contained(elements, type.getElementType())) {
    InFlightDiagnostic diag = op->emitOpError();
    diag << "'" << name << "' has element type " << type.getElementType()
         << ", expected " << (elements.size() == 1 ? "" : "one of ");
    llvm::interleaveComma(elements, diag);
    return diag;
  }
  return success();
}

/// A static dimension of at least `least`.
static LogicalResult expectDimAtLeast(Operation *op, Dim a, int64_t least,
                                      StringRef what) {
  if (!isStatic(a.size()) || a.size() >= least)
    return success();
  return op->emitOpError() << "'" << a.name << "' dim " << a.index << " ("
                           << a.size() << ") must be at least " << least << " ("
                           << what << ")";
}

/// Destination style: inits all tensors, with one result of the same type
/// each, or all memrefs, with no results; every shaped operand of the same
/// kind as the inits.
static LogicalResult verifyDestinationStyle(Operation *op, ValueRange inits,
                                            size_t expectedInits) {
  if (inits.size() != expectedInits)
    return op->emitOpError() << "expects " << expectedInits
                             << " init operands, got " << inits.size();
  bool tensors = llvm::all_of(inits.getTypes(), llvm::IsaPred<TensorType>);
  bool buffers = llvm::all_of(inits.getTypes(), llvm::IsaPred<BaseMemRefType>);
  if (!tensors && !buffers)
    return op->emitOpError("inits must be all tensors or all memrefs");
  for (Value v : op->getOperands())
    if (isa<ShapedType>(v.getType()) &&
        (tensors ? !isa<TensorType>(v.getType())
                 : !isa<BaseMemRefType>(v.getType())))
      return op->emitOpError()
             << "mixes tensors and memrefs: every operand must be a "
             << (tensors ? "tensor" : "memref") << " like the inits";
  if (buffers) {
    if (op->getNumResults())
      return op->emitOpError("on memrefs has no results");
    return success();
  }
  if (op->getNumResults() != inits.size())
    return op->emitOpError()
           << "on tensors has one result per init (" << inits.size()
           << "), got " << op->getNumResults();
  for (auto [i, pair] : llvm::enumerate(llvm::zip(inits, op->getResults())))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return op->emitOpError()
             << "result #" << i << " type " << std::get<1>(pair).getType()
             << " must equal its init's type " << std::get<0>(pair).getType();
  return success();
}

/// The target the enclosing module is configured for, if any.
static const limits::Target *enclosingTarget(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  if (!module)
    return nullptr;
  auto target =
      module->getAttrOfType<TargetAttr>(MoeGPUDialect::kTargetAttrName);
  return target ? target.getInfo() : nullptr;
}

template <typename OpT>
static LogicalResult checkOpLimit(OpT op, Id id, int64_t value,
                                  const Twine &what) {
  return checkLimit([&] { return op.emitOpError(); }, id, value, what);
}

/// Memory effects of a kernel op: on memrefs it reads its inputs and
/// writes its inits (reading those it updates in place); on tensors none.
static void kernelEffects(
    Operation *op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  auto kernel = cast<KernelOpInterface>(op);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (!dps.isDpsInit(&operand)) {
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
      continue;
    }
    unsigned index =
        operand.getOperandNumber() - dps.getDpsInits().getBeginOperandIndex();
    if (kernel.readsInit(index))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Write::get(), &operand,
                         SideEffects::DefaultResource::get());
  }
}

static void kernelResultNames(Operation *op, OpAsmSetValueNameFn setNameFn) {
  SmallVector<StringRef> names = cast<KernelOpInterface>(op).getInitNames();
  for (auto [result, name] : llvm::zip(op->getResults(), names))
    setNameFn(result, name);
}

// Every op: effects and result names from the inits.
#define MOEGPU_KERNEL_COMMON(OpT)                                              \
  MutableOperandRange OpT::getDpsInitsMutable() { return getInitsMutable(); }  \
  void OpT::getEffects(                                                        \
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>      \
          &effects) {                                                          \
    kernelEffects(getOperation(), effects);                                    \
  }                                                                            \
  void OpT::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {                 \
    kernelResultNames(getOperation(), setNameFn);                              \
  }
MOEGPU_KERNEL_COMMON(RouteOp)
MOEGPU_KERNEL_COMMON(LossFromStatsOp)
MOEGPU_KERNEL_COMMON(LossGradOp)
MOEGPU_KERNEL_COMMON(BiasUpdateOp)
MOEGPU_KERNEL_COMMON(DispatchLayoutOp)
MOEGPU_KERNEL_COMMON(PermuteOp)
MOEGPU_KERNEL_COMMON(CombineOp)
MOEGPU_KERNEL_COMMON(TileMapOp)
MOEGPU_KERNEL_COMMON(GroupedGemmOp)
MOEGPU_KERNEL_COMMON(QuantizeOp)
MOEGPU_KERNEL_COMMON(ZeroTailOp)
MOEGPU_KERNEL_COMMON(CopyOp)
MOEGPU_KERNEL_COMMON(ZeroOp)
#undef MOEGPU_KERNEL_COMMON

unsigned mlir::moegpu::kernelIndex(Operation *kernel) {
  unsigned index = 0;
  for (Operation &op : *kernel->getBlock()) {
    if (&op == kernel)
      return index;
    if (isa<KernelOpInterface>(op))
      ++index;
  }
  return index;
}

//===----------------------------------------------------------------------===//
// RouteOp
//===----------------------------------------------------------------------===//

SmallVector<StringRef> RouteOp::getInitNames() {
  SmallVector<StringRef> names = {"ids", "weights"};
  if (getCounts())
    names.push_back("counts");
  if (getStats())
    names.push_back("stats");
  return names;
}

/// What the warp-per-token routing kernel can hold: experts, slots, groups,
/// the group-score count, and groups in whole power-of-two lane counts.
static LogicalResult checkRoutingLimits(RouteOp op, int64_t experts, int64_t k,
                                        int64_t groups, int64_t groupSum) {
  if (failed(checkOpLimit(op, Id::RouteMaxExperts, experts,
                          Twine(experts) + " experts")) ||
      failed(checkOpLimit(op, Id::RouteMaxK, k, "'k' (" + Twine(k) + ")")) ||
      failed(checkOpLimit(op, Id::RouteMaxGroups, groups,
                          "'groups' (" + Twine(groups) + ")")))
    return failure();
  if (groups > 1 &&
      failed(checkOpLimit(op, Id::RouteMaxGroupSum, groupSum,
                          "'group_score' topk_sum<" + Twine(groupSum) + ">")))
    return failure();
  int64_t perLane = llvm::divideCeil(experts, limits::WarpSize);
  int64_t perGroup = experts / groups;
  int64_t lanes = perGroup / perLane;
  if (groups > 1 && (perGroup % perLane != 0 || !llvm::isPowerOf2_64(lanes)))
    return op.emitOpError()
           << "groups of " << perGroup << " experts do not map onto whole "
           << "warp lanes (" << perLane
           << " experts per lane; a group must be a power-of-two number of "
              "lanes)";
  return success();
}

LogicalResult RouteOp::verify() {
  Operation *op = getOperation();
  size_t inits = 2 + (getCounts() ? 1 : 0) + (getStats() ? 1 : 0);
  if (failed(verifyDestinationStyle(op, getInits(), inits)))
    return failure();
  Type f32 = Float32Type::get(getContext()),
       i32 = IntegerType::get(getContext(), 32);
  if (failed(expectType(op, "logits", getLogits(), 2, {})) ||
      failed(expectStaticDim(op, {"logits", shapeOf(getLogits()), 1},
                             "the number of experts")))
    return failure();
  ShapedType z = shapeOf(getLogits());
  if (!getFunc() && !z.getElementType().isF32())
    return emitOpError("without a score function the input holds the scores "
                       "and must be f32");
  if (failed(expectType(op, "logits", getLogits(), 2,
                        {f32, BFloat16Type::get(getContext()),
                         Float16Type::get(getContext())})))
    return failure();
  int64_t experts = z.getDimSize(1);
  if ((getBias() && failed(expectType(op, "bias", getBias(), 1, {f32}))) ||
      failed(expectType(op, "ids", getIdsInit(), 2, {i32})) ||
      failed(expectType(op, "weights", getWeightsInit(), 2, {f32})))
    return failure();
  if (failed(verifyRouteShapes(
          op, {"logits", z, 0}, experts, getK(), getGroups(), getGroupTopk(),
          getGroupScore(), getScale().convertToFloat(), getBias(),
          shapeOf(getIdsInit()), shapeOf(getWeightsInit()))))
    return failure();
  if (Value counts = getCountsInit())
    if (failed(expectType(op, "counts", counts, 1, {i32})) ||
        failed(expectDimValue(op, {"counts", shapeOf(counts), 0}, experts,
                              "the number of experts")))
      return failure();
  if (getStats().has_value() != getChunk().has_value())
    return emitOpError("'stats' and 'chunk' go together");
  if (BalanceLossAttr stats = getStatsAttr()) {
    if (!getFunc())
      return emitOpError("statistics need the scores: give a score function");
    if (failed(verifyLossConfig(op, stats, z.getDimSize(0), experts, getK())) ||
        failed(
            checkOpLimit(*this, Id::LossMaxDevices, stats.getDevices(),
                         "loss 'devices' (" + Twine(stats.getDevices()) + ")")))
      return failure();
    int64_t chunk = *getChunk(), seqLen = stats.getSeqLen();
    if (chunk < 1 || (seqLen && seqLen % chunk != 0))
      return emitOpError() << "'chunk' (" << chunk
                           << ") must be at least 1 and divide the loss's "
                              "seq_len ("
                           << seqLen << ")";
    ShapedType st = shapeOf(getStatsInit());
    int64_t rows = isStatic(z.getDimSize(0))
                       ? llvm::divideCeil(z.getDimSize(0), chunk)
                       : ShapedType::kDynamic;
    if (failed(expectType(op, "stats", getStatsInit(), 2, {f32})) ||
        failed(expectDimValue(op, {"stats", st, 0}, rows,
                              "ceil(tokens / chunk)")) ||
        failed(expectDimValue(op, {"stats", st, 1},
                              2 * experts + stats.getDevices(),
                              "2 E + devices")))
      return failure();
  }
  return checkRoutingLimits(*this, experts, getK(), getGroups(),
                            getGroupScore().getCount());
}

//===----------------------------------------------------------------------===//
// LossFromStatsOp, LossGradOp, BiasUpdateOp
//===----------------------------------------------------------------------===//

SmallVector<StringRef> LossFromStatsOp::getInitNames() {
  return {"loss", "loss_weights", "seq_losses"};
}

LogicalResult LossFromStatsOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 3)))
    return failure();
  Type f32 = Float32Type::get(getContext()),
       f64 = Float64Type::get(getContext());
  Value loss = getInits()[0], g = getInits()[1], seq = getInits()[2];
  if (failed(expectType(op, "stats", getStats(), 2, {f32})) ||
      failed(expectType(op, "loss", loss, 0, {f32})) ||
      failed(expectType(op, "loss_weights", g, 2, {f32})) ||
      failed(expectType(op, "seq_losses", seq, 1, {f64})) ||
      failed(expectStaticDim(op, {"loss_weights", shapeOf(g), 1},
                             "the number of experts")) ||
      failed(expectSameDim(op, {"seq_losses", shapeOf(seq), 0},
                           {"loss_weights", shapeOf(g), 0})))
    return failure();
  int64_t experts = shapeOf(g).getDimSize(1);
  int64_t k = getK(), chunk = getChunk();
  BalanceLossAttr config = getConfig();
  if (k < 1 || k > experts)
    return emitOpError() << "'k' (" << k << ") must be in [1, " << experts
                         << "]";
  if (chunk < 1 || (config.getSeqLen() && config.getSeqLen() % chunk != 0))
    return emitOpError() << "'chunk' (" << chunk
                         << ") must be at least 1 and divide the loss's "
                            "seq_len";
  if (config.getDevices() && experts % config.getDevices() != 0)
    return emitOpError() << "loss 'devices' (" << config.getDevices()
                         << ") must divide the number of experts (" << experts
                         << ")";
  // Statistics may carry device columns another loss of the same routing
  // needs; a device or comm loss needs exactly its own.
  ShapedType stats = shapeOf(getStats());
  if (failed(expectStaticDim(op, {"stats", stats, 1}, "2 E + devices")))
    return failure();
  int64_t width = stats.getDimSize(1);
  int64_t devices = width - 2 * experts;
  if (devices < 0 || (config.getDevices() && devices != config.getDevices()))
    return emitOpError() << "'stats' dim 1 (" << width
                         << ") must be 2 E + the loss's devices ("
                         << 2 * experts + config.getDevices() << ")";
  return checkOpLimit(*this, Id::LossMaxDevices, devices,
                      "the statistics' " + Twine(devices) + " devices");
}

SmallVector<StringRef> LossGradOp::getInitNames() { return {"grad"}; }

LogicalResult LossGradOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  Type f32 = Float32Type::get(getContext());
  Value grad = getInits()[0];
  if (failed(expectType(op, "logits", getLogits(), 2,
                        {f32, BFloat16Type::get(getContext()),
                         Float16Type::get(getContext())})) ||
      failed(expectType(op, "weights", getWeights(), 2, {f32})) ||
      failed(expectType(op, "grad", grad, 2, {f32})))
    return failure();
  ShapedType z = shapeOf(getLogits());
  if (failed(expectStaticDim(op, {"logits", z, 1}, "the number of experts")) ||
      failed(expectSameDim(op, {"weights", shapeOf(getWeights()), 1},
                           {"logits", z, 1})) ||
      failed(expectSameDim(op, {"grad", shapeOf(grad), 0}, {"logits", z, 0})) ||
      failed(expectSameDim(op, {"grad", shapeOf(grad), 1}, {"logits", z, 1})))
    return failure();
  BalanceLossAttr config = getConfig();
  if (failed(verifyLossConfig(op, config, z.getDimSize(0), z.getDimSize(1),
                              /*k=*/1)) ||
      failed(
          checkOpLimit(*this, Id::LossMaxDevices, config.getDevices(),
                       "loss 'devices' (" + Twine(config.getDevices()) + ")")))
    return failure();
  return checkOpLimit(*this, Id::LossGradMaxExperts, z.getDimSize(1),
                      Twine(z.getDimSize(1)) + " experts");
}

SmallVector<StringRef> BiasUpdateOp::getInitNames() { return {"new_bias"}; }

LogicalResult BiasUpdateOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  Type f32 = Float32Type::get(getContext());
  Value updated = getInits()[0];
  if (failed(expectType(op, "bias", getBias(), 1, {f32})) ||
      failed(expectType(op, "counts", getCounts(), 1,
                        {IntegerType::get(getContext(), 32)})) ||
      failed(expectType(op, "new_bias", updated, 1, {f32})) ||
      failed(expectStaticDim(op, {"bias", shapeOf(getBias()), 0},
                             "the number of experts")) ||
      failed(expectSameDim(op, {"counts", shapeOf(getCounts()), 0},
                           {"bias", shapeOf(getBias()), 0})) ||
      failed(expectSameDim(op, {"new_bias", shapeOf(updated), 0},
                           {"bias", shapeOf(getBias()), 0})))
    return failure();
  float rate = getRate().convertToFloat();
  if (!std::isfinite(rate))
    return emitOpError() << "'rate' (" << rate << ") must be finite";
  return success();
}

//===----------------------------------------------------------------------===//
// DispatchLayoutOp, PermuteOp, CombineOp
//===----------------------------------------------------------------------===//

SmallVector<StringRef> DispatchLayoutOp::getInitNames() {
  return {"tokens_per_expert", "tokens_per_rank", "tokens_per_node",
          "is_token_in_rank"};
}

LogicalResult DispatchLayoutOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 4)))
    return failure();
  Type i32 = IntegerType::get(getContext(), 32);
  TopologyAttr topo = getTopology();
  int64_t ranks = topo.getNodes() * topo.getGpusPerNode();
  ValueRange inits = getInits();
  if (failed(expectType(op, "ids", getIds(), 2, {i32})) ||
      failed(expectStaticDim(op, {"ids", shapeOf(getIds()), 1}, "k")) ||
      failed(expectType(op, "tokens_per_expert", inits[0], 1, {i32})) ||
      failed(expectType(op, "tokens_per_rank", inits[1], 1, {i32})) ||
      failed(expectType(op, "tokens_per_node", inits[2], 1, {i32})) ||
      failed(expectType(op, "is_token_in_rank", inits[3], 2,
                        {IntegerType::get(getContext(), 1)})) ||
      failed(expectDimValue(op, {"tokens_per_expert", shapeOf(inits[0]), 0},
                            topo.getNumExperts(), "the topology's experts")) ||
      failed(expectDimValue(op, {"tokens_per_rank", shapeOf(inits[1]), 0},
                            ranks, "the topology's ranks")) ||
      failed(expectDimValue(op, {"tokens_per_node", shapeOf(inits[2]), 0},
                            topo.getNodes(), "the topology's nodes")) ||
      failed(expectSameDim(op, {"is_token_in_rank", shapeOf(inits[3]), 0},
                           {"ids", shapeOf(getIds()), 0})) ||
      failed(expectDimValue(op, {"is_token_in_rank", shapeOf(inits[3]), 1},
                            ranks, "the topology's ranks")))
    return failure();
  int64_t k = shapeOf(getIds()).getDimSize(1);
  return checkOpLimit(*this, Id::LayoutMaxSlots, k,
                      Twine(k) + " slots per token");
}

SmallVector<StringRef> PermuteOp::getInitNames() {
  SmallVector<StringRef> names = {"row_map",    "offsets",      "row_token",
                                  "local_rank", "block_counts", "totals"};
  if (hasSegment())
    names.push_back("segment");
  if (!getDeferredGather())
    names.push_back("rows");
  return names;
}

Value PermuteOp::resultOf(Value init) {
  for (auto [i, v] : llvm::enumerate(getInits()))
    if (v == init)
      return getResults()[i];
  return Value();
}

LogicalResult PermuteOp::verify() {
  Operation *op = getOperation();
  size_t inits = 6 + (hasSegment() ? 1 : 0) + (getDeferredGather() ? 0 : 1);
  if (failed(verifyDestinationStyle(op, getInits(), inits)))
    return failure();
  MLIRContext *ctx = getContext();
  Type i32 = IntegerType::get(ctx, 32), f32 = Float32Type::get(ctx);
  if (failed(
          expectType(op, "input", getInput(), 2,
                     {f32, BFloat16Type::get(ctx), Float16Type::get(ctx)})) ||
      failed(expectType(op, "ids", getIds(), 2, {i32})) ||
      failed(expectType(op, "weights", getWeights(), 2, {f32})) ||
      failed(expectType(op, "row_map", getRowMapInit(), 2, {i32})) ||
      failed(expectType(op, "offsets", getOffsetsInit(), 1, {i32})) ||
      failed(expectType(op, "row_token", getRowTokenInit(), 1, {i32})) ||
      failed(expectType(op, "local_rank", getLocalRankInit(), 1, {i32})) ||
      failed(expectType(op, "block_counts", getBlockCountsInit(), 2, {i32})) ||
      failed(expectType(op, "totals", getTotalsInit(), 1, {i32})))
    return failure();
  ShapedType x = shapeOf(getInput()), ids = shapeOf(getIds());
  if (failed(expectStaticDim(op, {"ids", ids, 1}, "k")) ||
      failed(expectStaticDim(op, {"input", x, 1}, "the hidden size")) ||
      failed(expectStaticDim(op, {"offsets", shapeOf(getOffsetsInit()), 0},
                             "experts + 1")))
    return failure();
  int64_t k = ids.getDimSize(1), experts = getNumExperts();
  int64_t slots = mulDims(ids.getDimSize(0), k);
  if (experts < 1)
    return emitOpError("'offsets' must hold experts + 1 >= 2 entries");
  if (failed(expectSameDim(op, {"ids", ids, 0}, {"input", x, 0})) ||
      failed(expectSameDim(op, {"weights", shapeOf(getWeights()), 0},
                           {"ids", ids, 0})) ||
      failed(expectSameDim(op, {"weights", shapeOf(getWeights()), 1},
                           {"ids", ids, 1})) ||
      failed(expectSameDim(op, {"row_map", shapeOf(getRowMapInit()), 0},
                           {"ids", ids, 0})) ||
      failed(expectSameDim(op, {"row_map", shapeOf(getRowMapInit()), 1},
                           {"ids", ids, 1})) ||
      failed(expectDimValue(op, {"row_token", shapeOf(getRowTokenInit()), 0},
                            slots, "tokens x k")) ||
      failed(expectDimValue(op, {"local_rank", shapeOf(getLocalRankInit()), 0},
                            slots, "tokens x k")) ||
      failed(expectDimValue(
          op, {"block_counts", shapeOf(getBlockCountsInit()), 0},
          isStatic(slots)
              ? llvm::divideCeil(slots, limits::PermuteAssignmentsPerBlock)
              : ShapedType::kDynamic,
          "ceil(tokens x k / PermuteAssignmentsPerBlock)")) ||
      failed(expectDimValue(op,
                            {"block_counts", shapeOf(getBlockCountsInit()), 1},
                            experts, "the number of experts")) ||
      failed(expectDimValue(op, {"totals", shapeOf(getTotalsInit()), 0},
                            experts + 1, "experts + 1")))
    return failure();
  if (Value segment = getSegmentInit())
    if (failed(expectType(op, "segment", segment, 1, {i32})) ||
        failed(expectDimValue(op, {"segment", shapeOf(segment), 0}, slots,
                              "tokens x k")))
      return failure();
  if (Value rows = getRowsInit()) {
    if (failed(expectType(op, "rows", rows, 2, {x.getElementType()})) ||
        failed(expectDimValue(op, {"rows", shapeOf(rows), 0}, slots,
                              "tokens x k")) ||
        failed(expectSameDim(op, {"rows", shapeOf(rows), 1}, {"input", x, 1})))
      return failure();
  }
  if (failed(verifyCapacityFactor(op, getCapacityFactor())))
    return failure();
  if (!getCapacityFactor() && getDropPolicy() != DropPolicy::probs)
    return emitOpError("'drop_policy' requires 'capacity_factor'");
  if (getFusedPlaceBlocksAttr().getInt() < 0)
    return emitOpError() << "'fused_place_blocks' ("
                         << getFusedPlaceBlocksAttr().getInt()
                         << ") must not be negative";
  int64_t rowBytes = x.getDimSize(1) * x.getElementTypeBitWidth() / 8;
  return failure(
      failed(checkOpLimit(*this, Id::PermuteMaxExperts, experts,
                          Twine(experts) + " experts")) ||
      failed(checkLimit([&] { return emitOpError(); }, Id::VectorBytes,
                        rowBytes, "a row of " + Twine(rowBytes) + " bytes")));
}

SmallVector<StringRef> CombineOp::getInitNames() { return {"output"}; }

LogicalResult CombineOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  MLIRContext *ctx = getContext();
  Type i32 = IntegerType::get(ctx, 32), f32 = Float32Type::get(ctx);
  Value out = getInits()[0];
  if (failed(expectType(op, "expert_out", getExpertOut(), 2,
                        {f32, BFloat16Type::get(ctx), Float16Type::get(ctx)})))
    return failure();
  Type elem = shapeOf(getExpertOut()).getElementType();
  if (failed(expectType(op, "row_map", getRowMap(), 2, {i32})) ||
      failed(expectType(op, "weights", getWeights(), 2, {f32})) ||
      failed(expectType(op, "output", out, 2, {elem})) ||
      (getShared() && failed(expectType(op, "shared", getShared(), 2, {elem}))))
    return failure();
  ShapedType rows = shapeOf(getExpertOut()), map = shapeOf(getRowMap());
  if (failed(expectStaticDim(op, {"row_map", map, 1}, "k")) ||
      failed(expectStaticDim(op, {"expert_out", rows, 1}, "the hidden size")) ||
      failed(expectSameDim(op, {"weights", shapeOf(getWeights()), 0},
                           {"row_map", map, 0})) ||
      failed(expectSameDim(op, {"weights", shapeOf(getWeights()), 1},
                           {"row_map", map, 1})) ||
      failed(expectSameDim(op, {"output", shapeOf(out), 0},
                           {"row_map", map, 0})) ||
      failed(expectSameDim(op, {"output", shapeOf(out), 1},
                           {"expert_out", rows, 1})))
    return failure();
  if (getShared() &&
      (failed(expectSameDim(op, {"shared", shapeOf(getShared()), 0},
                            {"row_map", map, 0})) ||
       failed(expectSameDim(op, {"shared", shapeOf(getShared()), 1},
                            {"expert_out", rows, 1}))))
    return failure();
  return failure(
      failed(checkOpLimit(*this, Id::CombineMaxSlots, map.getDimSize(1),
                          Twine(map.getDimSize(1)) + " slots per token")) ||
      failed(checkOpLimit(*this, Id::CombineElementsPerThread,
                          rows.getDimSize(1),
                          "a hidden size of " + Twine(rows.getDimSize(1)))));
}

//===----------------------------------------------------------------------===//
// TileMapOp, GroupedGemmOp, ZeroTailOp
//===----------------------------------------------------------------------===//

SmallVector<StringRef> TileMapOp::getInitNames() { return {"tiles"}; }

LogicalResult TileMapOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  Type i32 = IntegerType::get(getContext(), 32);
  Value tiles = getInits()[0];
  if (failed(expectType(op, "tiles", tiles, 2, {i32})) ||
      failed(expectDimValue(op, {"tiles", shapeOf(tiles), 1}, 4,
                            "(expert, begin, end, chunk)")))
    return failure();
  int64_t experts = getExperts();
  if (experts < 1)
    return emitOpError() << "'experts' (" << experts << ") must be at least 1";
  if (Value offsets = getOffsets()) {
    if (failed(expectType(op, "offsets", offsets, 1, {i32})) ||
        failed(expectDimValue(op, {"offsets", shapeOf(offsets), 0}, experts + 1,
                              "experts + 1")))
      return failure();
  } else if (experts != 1) {
    return emitOpError("without offsets all rows belong to one expert: "
                       "'experts' must be 1");
  }
  int64_t rowTile = getRowTile();
  if (rowTile != limits::GemmRowTile && rowTile != 2 * limits::GemmRowTile)
    return emitOpError() << "'row_tile' (" << rowTile << ") must be "
                         << limits::GemmRowTile << " or "
                         << 2 * limits::GemmRowTile;
  if (getChunk() < 1)
    return emitOpError() << "'chunk' (" << getChunk() << ") must be at least 1";
  return failure(failed(checkOpLimit(*this, Id::GemmMaxExperts, experts,
                                     Twine(experts) + " experts")) ||
                 failed(checkOpLimit(*this, Id::GemmMaxTileChunk, getChunk(),
                                     "'chunk' (" + Twine(getChunk()) + ")")));
}

SmallVector<StringRef> GroupedGemmOp::getInitNames() {
  SmallVector<StringRef> names = {"out"};
  if (getConfig().getSplitK())
    names.push_back("partial");
  return names;
}

/// Shared memory of a wgmma block (the stages, the barriers and the source
/// row of each tile row, 1 KB of slack to align the allocation); operands
/// of `elementBytes` bytes.
static int64_t wgmmaSharedBytes(GemmConfigAttr config, int64_t elementBytes) {
  int64_t stageBytes = (config.getTileRows() + config.getTileCols()) *
                       config.getTileK() * elementBytes;
  return config.getStages() * stageBytes + limits::WgmmaSharedSlack +
         config.getTileRows() * 4;
}

/// The FP8 form of a grouped GEMM: e4m3 A and W with their block scales,
/// on the wgmma kernel of ExpertsFp8Sm90.cuh (tile [128, 128 or 256, 128],
/// no gather, split-K or TMA stores).
static LogicalResult verifyFP8Gemm(GroupedGemmOp op) {
  MLIRContext *ctx = op.getContext();
  Type f8 = Float8E4M3FNType::get(ctx), f32 = Float32Type::get(ctx);
  Operation *o = op.getOperation();
  if (!op.getAScales() || !op.getWScales())
    return op.emitOpError(op.getAScales() || op.getWScales()
                              ? "'scales' takes A's and W's"
                              : "e4m3 operands need their block scales "
                                "('scales')");
  if (failed(expectType(o, "a", op.getA(), 2, {f8})) ||
      failed(expectType(o, "weight", op.getWeight(), 3, {f8})) ||
      failed(expectType(o, "a_scales", op.getAScales(), 2, {f32})) ||
      failed(expectType(o, "w_scales", op.getWScales(), 3, {f32})))
    return failure();
  ShapedType a = shapeOf(op.getA()), w = shapeOf(op.getWeight());
  ShapedType as = shapeOf(op.getAScales()), ws = shapeOf(op.getWScales());
  for (unsigned d = 0; d < 3; ++d)
    if (failed(expectStaticDim(o, {"weight", w, d},
                               "the experts, weight rows and reduction")))
      return failure();
  int64_t k = w.getDimSize(2);
  if (k % limits::Fp8Block != 0)
    return op.emitOpError() << "an FP8 reduction (" << k
                            << ") is whole blocks of " << limits::Fp8Block;
  auto blocks = [](int64_t n) {
    return (n + limits::Fp8Block - 1) / limits::Fp8Block;
  };
  if (failed(expectSameDim(o, {"a_scales", as, 0}, {"a", a, 0})) ||
      failed(expectDimValue(o, {"a_scales", as, 1}, k / limits::Fp8Block,
                            "the K blocks")) ||
      failed(expectDimValue(o, {"w_scales", ws, 0}, w.getDimSize(0),
                            "the experts")) ||
      failed(expectDimValue(o, {"w_scales", ws, 1}, blocks(w.getDimSize(1)),
                            "the 128-row blocks of the weights")) ||
      failed(expectDimValue(o, {"w_scales", ws, 2}, k / limits::Fp8Block,
                            "the K blocks")))
    return failure();
  GemmConfigAttr config = op.getConfig();
  if (config.getFamily() != GemmFamily::wgmma ||
      config.getTileRows() != limits::Fp8TileRows ||
      (config.getTileCols() != limits::Fp8TileCols &&
       config.getTileCols() != limits::Fp8WideTileCols) ||
      config.getTileK() != limits::Fp8Block || config.getSplitK() ||
      config.getStore() != GemmStore::registers)
    return op.emitOpError()
           << "an FP8 GEMM runs on wgmma with tile [" << limits::Fp8TileRows
           << ", " << limits::Fp8TileCols << " or " << limits::Fp8WideTileCols
           << ", " << limits::Fp8Block
           << "], no split-K, storing from registers";
  if (op.getRowToken())
    return op.emitOpError("an FP8 GEMM does not gather (the quantisation "
                          "does)");
  return success();
}

LogicalResult GroupedGemmOp::verify() {
  Operation *op = getOperation();
  GemmConfigAttr config = getConfig();
  if (failed(
          verifyDestinationStyle(op, getInits(), config.getSplitK() ? 2 : 1)))
    return failure();
  MLIRContext *ctx = getContext();
  Type bf16 = BFloat16Type::get(ctx), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  bool fp8 = getAScales() || getWScales() ||
             isa<Float8E4M3FNType>(getElementTypeOrSelf(getA().getType()));
  if (fp8 && failed(verifyFP8Gemm(*this)))
    return failure();
  if (!fp8 && config.getFamily() == GemmFamily::wgmma &&
      config.getTileK() == limits::Fp8Block)
    return emitOpError() << "the [" << limits::Fp8TileRows << ", "
                         << limits::Fp8TileCols << ", " << limits::Fp8Block
                         << "] tile is the FP8 GEMM's; bf16 operands take "
                            "the wgmma tiles of "
                         << limits::WgmmaTileK << " of K";
  if ((!fp8 && failed(expectType(op, "a", getA(), 2, {bf16}))) ||
      failed(expectType(op, "tiles", getTiles(), 2, {i32})) ||
      failed(expectDimValue(op, {"tiles", shapeOf(getTiles()), 1}, 4,
                            "(expert, begin, end, chunk)")) ||
      failed(expectType(op, "out", getOutInit(), 2, {bf16, f32})))
    return failure();
  ShapedType a = shapeOf(getA()), w = shapeOf(getWeight());
  ShapedType out = shapeOf(getOutInit());
  if ((!w.hasRank() || w.getRank() != 2) &&
      failed(expectType(op, "weight", getWeight(), 3,
                        {fp8 ? a.getElementType() : bf16})))
    return failure();
  if (!fp8 && w.getElementType() != bf16)
    return emitOpError() << "'weight' has element type " << w.getElementType()
                         << ", expected 'bf16'";
  unsigned rowsDim = w.getRank() - 2, kDim = w.getRank() - 1;
  for (unsigned d = 0; d < w.getRank(); ++d)
    if (failed(expectStaticDim(op, {"weight", w, d},
                               "the experts, output columns and reduction")))
      return failure();
  if (failed(expectStaticDim(op, {"out", out, 1}, "the output columns")) ||
      failed(expectSameDim(op, {"a", a, 1}, {"weight", w, kDim})))
    return failure();
  int64_t n = out.getDimSize(1), k = w.getDimSize(kDim);
  bool dual = isDual();
  if (failed(expectDimValue(op, {"weight", w, rowsDim}, dual ? 2 * n : n,
                            dual ? "2 x the output columns (gate, then up)"
                                 : "the output columns")))
    return failure();
  if (dual && out.getElementType() != bf16)
    return emitOpError("the silu_mul epilogue writes bf16");
  if (static_cast<bool>(getRowToken()) != static_cast<bool>(getARows()))
    return emitOpError("'gather' takes the row-token map and the rows of A");
  if (Value rowToken = getRowToken()) {
    if (failed(expectType(op, "row_token", rowToken, 1, {i32})) ||
        failed(expectSameDim(op, {"row_token", shapeOf(rowToken), 0},
                             {"out", out, 0})))
      return failure();
    if (config.getFamily() == GemmFamily::wgmma &&
        config.getTileRows() != limits::GemmRowTile)
      return emitOpError() << "a gathering wgmma GEMM takes "
                           << limits::GemmRowTile << "-row tiles";
  } else if (failed(expectSameDim(op, {"out", out, 0}, {"a", a, 0}))) {
    return failure();
  }
  if (Value partial = getPartialInit()) {
    if (failed(expectType(op, "partial", partial, 2, {f32})) ||
        failed(expectDimValue(op, {"partial", shapeOf(partial), 1},
                              dual ? 2 * n : n,
                              "the f32 sums per row (gate/up: 2 x columns)")))
      return failure();
  }
  int64_t experts = getNumExperts();
  if (failed(checkOpLimit(*this, Id::GemmMaxExperts, experts,
                          Twine(experts) + " experts")))
    return failure();
  if (config.getFamily() == GemmFamily::mma_sync) {
    if (failed(checkOpLimit(*this, Id::MmaTileK, k,
                            "a reduction of " + Twine(k))) ||
        (dual && failed(checkOpLimit(*this, Id::MmaDualColumns, n,
                                     "an intermediate size of " + Twine(n)))))
      return failure();
    if (n % 2 != 0)
      return emitOpError() << "has " << n
                           << " output columns; the mma_sync GEMM stores "
                              "pairs";
    return success();
  }
  int64_t outCols = dual ? config.getTileCols() / 2 : config.getTileCols();
  if (failed(
          checkOpLimit(*this, Id::WgmmaTileK, k, "a reduction of " + Twine(k))))
    return failure();
  if (n % outCols != 0)
    return emitOpError() << "has " << n
                         << " output columns; the wgmma GEMM with tile "
                         << config.getTileRows() << " x "
                         << config.getTileCols() << " needs a multiple of "
                         << outCols;
  if (config.getSplitK() && experts != 1)
    return emitOpError("only single-expert GEMMs split K (a routed expert's "
                       "tiles do not cover every row of the reduction)");
  if (config.getStore() == GemmStore::tma &&
      (out.getElementType() != bf16 || outCols % limits::WgmmaTileK != 0))
    return emitOpError() << "TMA stores take bf16 outputs in "
                         << limits::WgmmaTileK << "-column boxes";
  if (const limits::Target *target = enclosingTarget(op)) {
    if (!target->wgmma)
      return emitOpError() << "the wgmma GEMM needs a target with wgmma; "
                           << target->name << " has none";
    int64_t bytes = wgmmaSharedBytes(config, fp8 ? 1 : 2);
    if (bytes > target->maxSharedBytes)
      return emitOpError() << config.getStages() << " stages of "
                           << config.getTileRows() << " x "
                           << config.getTileCols() << " tiles need " << bytes
                           << " bytes of shared memory; " << target->name
                           << " has " << target->maxSharedBytes;
  }
  return success();
}

SmallVector<StringRef> QuantizeOp::getInitNames() {
  return {"values", "scales"};
}

LogicalResult QuantizeOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 2)))
    return failure();
  MLIRContext *ctx = getContext();
  Type i32 = IntegerType::get(ctx, 32), f32 = Float32Type::get(ctx);
  Value values = getInits()[0], scales = getInits()[1];
  if (failed(
          expectType(op, "input", getInput(), 2,
                     {f32, BFloat16Type::get(ctx), Float16Type::get(ctx)})) ||
      failed(
          expectType(op, "values", values, 2, {Float8E4M3FNType::get(ctx)})) ||
      failed(expectType(op, "scales", scales, 2, {f32})))
    return failure();
  ShapedType x = shapeOf(getInput()), v = shapeOf(values), s = shapeOf(scales);
  if (failed(expectStaticDim(op, {"input", x, 1}, "the row width")))
    return failure();
  int64_t width = x.getDimSize(1);
  if (width % limits::Fp8Block != 0)
    return emitOpError() << "rows of " << width << " are not whole groups of "
                         << limits::Fp8Block;
  if (failed(expectSameDim(op, {"values", v, 1}, {"input", x, 1})) ||
      failed(expectSameDim(op, {"scales", s, 0}, {"values", v, 0})) ||
      failed(expectDimValue(op, {"scales", s, 1}, width / limits::Fp8Block,
                            "the groups per row")))
    return failure();
  if (static_cast<bool>(getRowToken()) != static_cast<bool>(getOffsets()))
    return emitOpError("'gather' takes the row-token map and the offsets");
  if (Value rowToken = getRowToken())
    return failure(
        failed(expectType(op, "row_token", rowToken, 1, {i32})) ||
        failed(expectSameDim(op, {"row_token", shapeOf(rowToken), 0},
                             {"values", v, 0})) ||
        failed(expectType(op, "offsets", getOffsets(), 1, {i32})) ||
        failed(expectStaticDim(op, {"offsets", shapeOf(getOffsets()), 0},
                               "experts + 1")));
  return expectSameDim(op, {"values", v, 0}, {"input", x, 0});
}

SmallVector<StringRef> ZeroTailOp::getInitNames() { return {"out"}; }

LogicalResult ZeroTailOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  MLIRContext *ctx = getContext();
  Value out = getInits()[0];
  if (failed(expectType(op, "offsets", getOffsets(), 1,
                        {IntegerType::get(ctx, 32)})) ||
      failed(expectStaticDim(op, {"offsets", shapeOf(getOffsets()), 0},
                             "experts + 1")) ||
      failed(expectDimAtLeast(op, {"offsets", shapeOf(getOffsets()), 0}, 2,
                              "experts + 1")) ||
      failed(expectType(op, "out", out, 2,
                        {Float32Type::get(ctx), BFloat16Type::get(ctx),
                         Float16Type::get(ctx)})) ||
      failed(expectStaticDim(op, {"out", shapeOf(out), 1}, "the row width")))
    return failure();
  int64_t rowBytes =
      shapeOf(out).getDimSize(1) * shapeOf(out).getElementTypeBitWidth() / 8;
  return checkLimit([&] { return emitOpError(); }, Id::VectorBytes, rowBytes,
                    "a row of " + Twine(rowBytes) + " bytes");
}

//===----------------------------------------------------------------------===//
// CopyOp, ZeroOp
//===----------------------------------------------------------------------===//

/// Rows are dim 0 (a scalar or static tensor has one "row": all of it).
static LogicalResult verifyRowsOf(Operation *op, StringRef name, Value v,
                                  Value rows) {
  ShapedType type = shapeOf(v);
  if (!type.hasRank())
    return op->emitOpError() << "'" << name << "' must be ranked";
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return op->emitOpError()
             << "'" << name << "' dim " << d
             << " must be static (only rows, dim 0, follow num_tokens)";
  std::optional<int64_t> count = getConstantIntValue(rows);
  int64_t expected = type.getRank() && !type.isDynamicDim(0)
                         ? type.getDimSize(0)
                         : (type.getRank() ? ShapedType::kDynamic : 1);
  if (count && !ShapedType::isDynamic(expected) && *count != expected)
    return op->emitOpError() << "'rows' (" << *count << ") must be '" << name
                             << "''s rows (" << expected << ")";
  return success();
}

SmallVector<StringRef> CopyOp::getInitNames() { return {"out"}; }

LogicalResult CopyOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  Value out = getInits()[0];
  if (shapeOf(getSource()).getElementType() != shapeOf(out).getElementType() ||
      shapeOf(getSource()).getRank() != shapeOf(out).getRank())
    return emitOpError() << "copies " << getSource().getType() << " into "
                         << out.getType()
                         << ": the element type and rank must match";
  for (int64_t d = 0; d < shapeOf(out).getRank(); ++d)
    if (failed(expectSameDim(op, {"source", shapeOf(getSource()), unsigned(d)},
                             {"out", shapeOf(out), unsigned(d)})))
      return failure();
  return verifyRowsOf(op, "out", out, getRows());
}

SmallVector<StringRef> ZeroOp::getInitNames() { return {"out"}; }

LogicalResult ZeroOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(op, getInits(), 1)))
    return failure();
  return verifyRowsOf(op, "out", getInits()[0], getRows());
}
