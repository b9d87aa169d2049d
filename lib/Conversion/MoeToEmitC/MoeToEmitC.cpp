//===- MoeToEmitC.cpp - the convert-moe-to-emitc pass ---------------------===//
//
// Turns each func.func of fused moe ops into an `extern "C"` host launcher
// and one or more `__global__` kernels per op. The launcher takes a device
// pointer per tensor argument (const) and per result (written), a
// workspace when values pass between kernels, the token count and a stream;
// it checks its arguments and returns the first CUDA error. A launcher with
// a workspace comes with `size_t <name>_workspace_size(int64_t num_tokens)`.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"
#include "RoutingToEmitC.h"

#include "moe/Conversion/MoeToEmitC/MoeToEmitC.h"
#include "moe/Conversion/Passes.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOETOEMITC
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;
using namespace mlir::moe::emitcuda;

/// Names of a fused op's operands and results, for the launcher's
/// parameters and its header.
static StringRef operandName(Operation *op, unsigned index) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case<FusedRouteOp>([&](FusedRouteOp route) -> StringRef {
        return index == 0 ? (route.getFunc() ? "logits" : "scores") : "bias";
      })
      .Case<FusedRouteStatsOp>(
          [&](auto) -> StringRef { return index == 0 ? "logits" : "bias"; })
      .Case<BiasUpdateOp>(
          [&](auto) -> StringRef { return index == 0 ? "bias" : "counts"; })
      .Case<FusedLossGradOp>(
          [&](auto) -> StringRef { return index == 0 ? "logits" : ""; })
      .Case<DispatchLayoutOp>([](auto) -> StringRef { return "ids"; })
      .Case<GateOp>(
          [&](auto) -> StringRef { return index == 0 ? "input" : "router"; })
      .Case<ExpertFFNOp>([&](ExpertFFNOp ffn) -> StringRef {
        if (index == 0)
          return "rows";
        if (ffn.getOffsets() && index == 1)
          return "offsets";
        bool up = index == (ffn.getOffsets() ? 2u : 1u);
        if (ffn.getOffsets())
          return up ? "gate_up" : "down";
        return up ? "shared_gate_up" : "shared_down";
      })
      .Case<PermuteOp>([&](auto) -> StringRef {
        return index == 0 ? "input" : index == 1 ? "ids" : "weights";
      })
      .Case<CombineOp>([&](auto) -> StringRef {
        return index == 0   ? "expert_out"
               : index == 1 ? "row_map"
               : index == 2 ? "weights"
                            : "shared";
      })
      .Default([](Operation *) { return ""; });
}
static StringRef resultName(Operation *op, unsigned index) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case<FusedRouteOp, FusedRouteStatsOp>([&](auto) -> StringRef {
        return index == 0   ? "ids"
               : index == 1 ? "weights"
               : index == 2 ? "counts"
                            : "stats";
      })
      .Case<LossFromStatsOp>([&](auto) -> StringRef {
        return index == 0 ? "loss" : "loss_weights";
      })
      .Case<FusedLossGradOp>([](auto) -> StringRef { return "grad"; })
      .Case<BiasUpdateOp>([](auto) -> StringRef { return "new_bias"; })
      .Case<DispatchLayoutOp>([&](auto) -> StringRef {
        return index == 0   ? "tokens_per_expert"
               : index == 1 ? "tokens_per_rank"
               : index == 2 ? "tokens_per_node"
                            : "is_token_in_rank";
      })
      .Case<PermuteOp>([&](auto) -> StringRef {
        return index == 0 ? "rows" : index == 1 ? "row_map" : "offsets";
      })
      .Case<CombineOp>([](auto) -> StringRef { return "output"; })
      .Case<GateOp>([](auto) -> StringRef { return "logits"; })
      .Case<ExpertFFNOp>([](auto) -> StringRef { return "expert_out"; })
      .Default([](Operation *) { return ""; });
}

/// The C expression (in moe_T) for the rows of a result's leading dim.
static std::string leadingRows(OpResult result) {
  auto type = cast<RankedTensorType>(result.getType());
  if (type.getRank() == 0)
    return "1";
  if (!type.isDynamicDim(0))
    return std::to_string(type.getDimSize(0));
  Operation *op = result.getOwner();
  if (auto st = dyn_cast<FusedRouteStatsOp>(op))
    if (result == st.getStats())
      return llvm::formatv("moe::cuda::divUp({0}, {1})", kTokens,
                           st.getChunkAttr().getInt())
          .str();
  if (isa<PermuteOp, ExpertFFNOp>(op))
    return rowsExprOf(result);
  if (auto loss = dyn_cast<LossFromStatsOp>(op)) {
    int64_t seqLen = loss.getConfig().getSeqLen();
    return seqLen ? llvm::formatv("({0} / {1})", kTokens, seqLen).str()
                  : llvm::formatv("({0} > 0 ? 1 : 0)", kTokens).str();
  }
  return kTokens;
}

static int64_t elementBytes(Type type) {
  if (type.isInteger(1))
    return 1;
  return type.getIntOrFloatBitWidth() / 8;
}

/// `[num_tokens, 256]`-style shapes for the header; `rows` names a dynamic
/// leading dimension.
static std::string describe(RankedTensorType type,
                            StringRef rows = "num_tokens") {
  std::string text = "[";
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d)
      text += ", ";
    text += type.isDynamicDim(d) ? (d == 0 ? rows.str() : "?")
                                 : std::to_string(type.getDimSize(d));
  }
  return text + "]";
}

namespace {
/// A workspace buffer: an intermediate tensor or a kernel's scratch.
struct Buffer {
  Type element;
  std::string cType;
  std::string rows;
  int64_t rowBytes;
};

class LauncherLowering {
public:
  LauncherLowering(func::FuncOp func, bool fuseGather)
      : func(func), fuseGather(fuseGather) {}

  LogicalResult run() {
    if (failed(check()))
      return failure();
    MLIRContext *ctx = func.getContext();
    ImplicitLocOpBuilder m(func.getLoc(), func);
    FunctionType type = func.getFunctionType();
    bool hasWorkspace = !buffers.empty();

    // Parameters: inputs, outputs, [workspace], num_tokens, stream.
    SmallVector<Type> params;
    SmallVector<Attribute> names, cTypes;
    llvm::StringMap<unsigned> used;
    std::string doc;
    auto addParam = [&](Type t, std::string name, std::string cType,
                        std::string what) {
      unsigned n = used[name]++;
      if (n)
        name += std::to_string(n);
      params.push_back(t);
      names.push_back(m.getStringAttr(name));
      cTypes.push_back(m.getStringAttr(cType));
      if (!what.empty())
        doc += "  " + name + ": " + what + "\n";
    };
    for (auto [i, t] : llvm::enumerate(type.getInputs())) {
      auto tensor = cast<RankedTensorType>(t);
      Type elem = tensor.getElementType();
      addParam(constPointer(ctx, elem),
               inputNames[i].empty() ? "arg" + std::to_string(i)
                                     : inputNames[i].str(),
               "const " + cElementType(elem) + "*",
               describe(tensor, inputRows[i]) + " " + cElementType(elem) +
                   " (input)");
    }
    for (auto [i, t] : llvm::enumerate(type.getResults())) {
      auto tensor = cast<RankedTensorType>(t);
      Type elem = tensor.getElementType();
      addParam(pointer(ctx, elem),
               resultNames[i].empty() ? "result" + std::to_string(i)
                                      : resultNames[i].str(),
               cElementType(elem) + "*",
               describe(tensor, resultRows[i]) + " " + cElementType(elem) +
                   " (output)");
    }
    std::string sizeFn = (func.getName() + "_workspace_size").str();
    if (hasWorkspace)
      addParam(emitc::PointerType::get(opaque(ctx, "void")), "workspace",
               "void*", sizeFn + "(num_tokens) bytes of device memory");
    addParam(m.getI64Type(), "num_tokens", "int64_t", "");
    addParam(opaque(ctx, "cudaStream_t"), "stream", "cudaStream_t", "");

    if (hasWorkspace)
      emitWorkspaceSize(m, sizeFn);

    Type errorType = opaque(ctx, "cudaError_t");
    auto launcher = emitc::FuncOp::create(
        m, func.getName(), m.getFunctionType(params, {errorType}));
    launcher.setSpecifiersAttr(m.getStrArrayAttr({"extern \"C\""}));
    launcher->setAttr(kLauncherAttr, m.getUnitAttr());
    launcher->setAttr(kArgNamesAttr, m.getArrayAttr(names));
    launcher->setAttr(kArgTypesAttr, m.getArrayAttr(cTypes));
    launcher->setAttr(kDocAttr, m.getStringAttr(doc));
    Block *entry = launcher.addEntryBlock();
    unsigned numInputs = type.getNumInputs();
    unsigned numResults = type.getNumResults();
    unsigned next = numInputs + numResults;
    Value workspace = hasWorkspace ? entry->getArgument(next++) : Value();
    Value numTokens = entry->getArgument(next);
    Value stream = entry->getArgument(next + 1);

    ImplicitLocOpBuilder body(func.getLoc(), ctx);
    body.setInsertionPointToStart(entry);
    emitGuard(body, std::string("const int64_t ") + kTokens + " = {};",
              numTokens);
    emitGuard(body, std::string("if (") + kTokens +
                        " < 0) return cudaErrorInvalidValue;");
    if (staticTokens)
      emitGuard(body, llvm::formatv("if ({0} != {1}) return "
                                    "cudaErrorInvalidValue;",
                                    kTokens, *staticTokens)
                          .str());

    // Carve the workspace: buffer i at a 256-byte aligned offset.
    SmallVector<Value> bufferValues;
    if (hasWorkspace) {
      emitGuard(body,
                "if ({} == nullptr && " + sizeFn + "(" + kTokens +
                    ") > 0) return cudaErrorInvalidValue;",
                workspace);
      emitGuard(body, "char* moe_ws = static_cast<char*>({});", workspace);
      emitGuard(body, "int64_t moe_off = 0;");
      for (auto [i, buf] : llvm::enumerate(buffers)) {
        std::string name = "moe_buf" + std::to_string(i);
        emitGuard(body, llvm::formatv("{0}* {1} = reinterpret_cast<{0}*>("
                                      "moe_ws + moe_off);",
                                      buf.cType, name)
                            .str());
        emitGuard(body, llvm::formatv("moe_off += moe::cuda::wsBytes({0} * "
                                      "{1});",
                                      buf.rows, buf.rowBytes)
                            .str());
        bufferValues.push_back(namedPointer(body, buf.element, name));
      }
    }

    m.setInsertionPoint(launcher);
    auto bufferOf = [&](Value v) -> Value {
      if (auto arg = dyn_cast<BlockArgument>(v))
        if (arg.getOwner() == &func.getBody().front())
          return entry->getArgument(arg.getArgNumber());
      auto it = resultIndex.find(v);
      if (it != resultIndex.end())
        return entry->getArgument(numInputs + it->second);
      auto ws = workspaceIndex.find(v);
      if (ws != workspaceIndex.end())
        return bufferValues[ws->second];
      return Value();
    };
    auto gatheredRows = [&](Value v) -> std::optional<GatheredRows> {
      auto permute = v.getDefiningOp<PermuteOp>();
      if (!permute || v != permute.getRows() || !gathered.contains(permute))
        return std::nullopt;
      return GatheredRows{
          permute, bufferOf(permute.getInput()),
          bufferValues[scratchIndex[permute][kRowTokenScratch]]};
    };
    unsigned index = 0;
    for (Operation &op : func.getBody().front().without_terminator()) {
      auto scratchOf = [&](unsigned i) -> Value {
        return bufferValues[scratchIndex[&op][i]];
      };
      LaunchContext lctx{
          m,
          body,
          (func.getName() + "_k" + std::to_string(index++)).str(),
          bufferOf,
          scratchOf,
          gatheredRows,
          numTokens,
          stream};
      LogicalResult emitted =
          llvm::TypeSwitch<Operation *, LogicalResult>(&op)
              .Case<FusedRouteOp, FusedRouteStatsOp>(
                  [&](Operation *o) { return emitFusedRoute(o, lctx); })
              .Case<LossFromStatsOp>(
                  [&](Operation *o) { return emitLossFromStats(o, lctx); })
              .Case<FusedLossGradOp>(
                  [&](Operation *o) { return emitFusedLossGrad(o, lctx); })
              .Case<BiasUpdateOp>(
                  [&](Operation *o) { return emitBiasUpdate(o, lctx); })
              .Case<DispatchLayoutOp>(
                  [&](Operation *o) { return emitDispatchLayout(o, lctx); })
              .Case<PermuteOp>(
                  [&](Operation *o) { return emitPermute(o, lctx); })
              .Case<CombineOp>(
                  [&](Operation *o) { return emitCombine(o, lctx); })
              .Case<GateOp>([&](Operation *o) { return emitGate(o, lctx); })
              .Case<ExpertFFNOp>(
                  [&](Operation *o) { return emitExpertFFN(o, lctx); })
              .Default([](Operation *) { return failure(); });
      if (failed(emitted))
        return failure();
    }
    Value ok = emitc::LiteralOp::create(body, errorType, "cudaSuccess");
    emitc::ReturnOp::create(body, ok);
    func.erase();
    return success();
  }

private:
  /// size_t <name>_workspace_size(int64_t num_tokens)
  void emitWorkspaceSize(ImplicitLocOpBuilder &m, StringRef name) {
    MLIRContext *ctx = m.getContext();
    Type sizeType = opaque(ctx, "size_t");
    auto fn = emitc::FuncOp::create(
        m, name, m.getFunctionType({m.getI64Type()}, {sizeType}));
    fn.setSpecifiersAttr(m.getStrArrayAttr({"extern \"C\""}));
    fn->setAttr(kLauncherAttr, m.getUnitAttr());
    fn->setAttr(kArgNamesAttr, m.getStrArrayAttr({"num_tokens"}));
    fn->setAttr(kArgTypesAttr, m.getStrArrayAttr({"int64_t"}));
    fn->setAttr(kResultTypeAttr, m.getStringAttr("size_t"));
    fn->setAttr(kDocAttr,
                m.getStringAttr("  bytes of workspace " + func.getName().str() +
                                " needs for num_tokens tokens (0 when "
                                "num_tokens < 0)\n"));
    OpBuilder::InsertionGuard guard(m);
    Block *entry = fn.addEntryBlock();
    m.setInsertionPointToStart(entry);
    emitGuard(m, std::string("const int64_t ") + kTokens + " = {};",
              entry->getArgument(0));
    emitGuard(m, std::string("if (") + kTokens + " < 0) return 0;");
    emitGuard(m, "int64_t moe_total = 0;");
    for (const Buffer &buf : buffers)
      emitGuard(m, llvm::formatv("moe_total += moe::cuda::wsBytes({0} * {1});",
                                 buf.rows, buf.rowBytes)
                       .str());
    Value total =
        emitc::LiteralOp::create(m, sizeType, "static_cast<size_t>(moe_total)");
    emitc::ReturnOp::create(m, total);
  }

  /// Only fused ops of supported kinds; results that are not returned get
  /// workspace buffers.
  LogicalResult check() {
    FunctionType type = func.getFunctionType();
    for (Type t :
         llvm::concat<const Type>(type.getInputs(), type.getResults())) {
      auto tensor = dyn_cast<RankedTensorType>(t);
      if (!tensor)
        return func.emitError() << "a CUDA launcher takes and returns ranked "
                                   "tensors, not "
                                << t;
      for (int64_t d = 1; d < tensor.getRank(); ++d)
        if (tensor.isDynamicDim(d))
          return func.emitError() << "only the token dimension (dim 0) may be "
                                     "dynamic in a CUDA launcher, not in "
                                  << t;
    }
    inputNames.assign(type.getNumInputs(), StringRef());
    resultNames.assign(type.getNumResults(), StringRef());
    inputRows.assign(type.getNumInputs(), "num_tokens");
    resultRows.assign(type.getNumResults(), "num_tokens");
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      if (isa<BlockArgument>(v))
        return ret.emitError() << "result #" << i
                               << " returns an argument; the CUDA backend "
                                  "writes results, it does not copy inputs";
      if (!resultIndex.try_emplace(v, i).second)
        return ret.emitError()
               << "result #" << i << " is returned twice; return it once";
    }
    for (Operation &op : func.getBody().front().without_terminator()) {
      if (isa<LayerOp>(op))
        return op.emitOpError() << "is not expanded: run moe-expand-layer "
                                   "first (moe-lower-to-cuda does)";
      if (isa<ScoreOp, RouteOp, ExpertCountsOp>(op))
        return op.emitOpError() << "is not fused: run moe-fuse-routing first "
                                   "(moe-lower-to-cuda does)";
      if (isa<BalanceLossOp, BalanceLossGradOp>(op))
        return op.emitOpError()
               << "is not fused with a routing: the CUDA backend computes "
                  "balance losses from the statistics of the routing kernel "
                  "(moe-fuse-routing fuses losses whose scores come from a "
                  "moe.score feeding a moe.route, with compatible statistics)";
      if (!isa<FusedRouteOp, FusedRouteStatsOp, LossFromStatsOp,
               FusedLossGradOp, BiasUpdateOp, DispatchLayoutOp, PermuteOp,
               CombineOp, GateOp, ExpertFFNOp>(op))
        return op.emitOpError() << "has no CUDA lowering yet";
      for (auto [i, v] : llvm::enumerate(op.getOperands()))
        if (auto arg = dyn_cast<BlockArgument>(v))
          if (inputNames[arg.getArgNumber()].empty()) {
            inputNames[arg.getArgNumber()] = operandName(&op, i);
            // A combine's rows come from a permute: T*K of them.
            if (isa<CombineOp>(op) && i == 0)
              inputRows[arg.getArgNumber()] =
                  "num_tokens * " +
                  std::to_string(
                      cast<CombineOp>(op).getRowMap().getType().getDimSize(1));
          }
      // Rows the expert GEMM gathers from the permute's input need no
      // buffer.
      auto permute = dyn_cast<PermuteOp>(op);
      if (permute && fuseGather && !resultIndex.contains(permute.getRows()) &&
          canGatherRows(permute))
        gathered.insert(permute);
      for (OpResult v : op.getResults()) {
        if (permute && v == permute.getRows() && gathered.contains(permute))
          continue;
        auto it = resultIndex.find(v);
        if (it != resultIndex.end()) {
          resultNames[it->second] = resultName(&op, v.getResultNumber());
          resultRows[it->second] = leadingRows(v);
          size_t at = resultRows[it->second].find(kTokens);
          if (at != std::string::npos)
            resultRows[it->second].replace(at, strlen(kTokens), "num_tokens");
          continue;
        }
        auto tensor = cast<RankedTensorType>(v.getType());
        int64_t rowBytes = elementBytes(tensor.getElementType());
        for (int64_t d = 1; d < tensor.getRank(); ++d)
          rowBytes *= tensor.getDimSize(d);
        workspaceIndex[v] = buffers.size();
        buffers.push_back(Buffer{tensor.getElementType(),
                                 cElementType(tensor.getElementType()),
                                 leadingRows(v), rowBytes});
      }
      for (const Scratch &s : scratchOf(&op)) {
        scratchIndex[&op].push_back(buffers.size());
        buffers.push_back(
            Buffer{s.element, cElementType(s.element), s.rowsExpr, s.rowBytes});
      }
      // The operand whose leading dimension is the token count.
      Value tokens;
      if (isa<FusedRouteOp, FusedRouteStatsOp, DispatchLayoutOp, GateOp>(op))
        tokens = op.getOperand(0);
      else if (permute)
        tokens = permute.getIds();
      else if (auto combine = dyn_cast<CombineOp>(op))
        tokens = combine.getRowMap();
      if (tokens) {
        int64_t t = cast<RankedTensorType>(tokens.getType()).getDimSize(0);
        if (!ShapedType::isDynamic(t))
          staticTokens = t;
      }
    }
    return success();
  }

  func::FuncOp func;
  bool fuseGather;
  /// Permutes whose rows the expert GEMM gathers (see GatheredRows).
  llvm::SmallPtrSet<Operation *, 2> gathered;
  DenseMap<Value, unsigned> resultIndex;
  SmallVector<StringRef> inputNames, resultNames;
  /// How the header names each dynamic leading dimension.
  SmallVector<std::string> inputRows, resultRows;
  std::optional<int64_t> staticTokens;
  SmallVector<Buffer> buffers;
  DenseMap<Value, unsigned> workspaceIndex;
  DenseMap<Operation *, SmallVector<unsigned>> scratchIndex;
};

struct ConvertMoeToEmitCPass
    : moe::impl::ConvertMoeToEmitCBase<ConvertMoeToEmitCPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    ImplicitLocOpBuilder b(module.getLoc(), module.getContext());
    b.setInsertionPointToStart(module.getBody());
    emitc::IncludeOp::create(b, "cuda_runtime.h", /*is_standard_include=*/true);
    emitc::IncludeOp::create(b, "stdint.h", /*is_standard_include=*/true);
    emitc::IncludeOp::create(b, "moe/Runtime/cuda/Loss.cuh",
                             /*is_standard_include=*/false);
    emitc::IncludeOp::create(b, "moe/Runtime/cuda/Dispatch.cuh",
                             /*is_standard_include=*/false);
    emitc::IncludeOp::create(b, "moe/Runtime/cuda/Experts.cuh",
                             /*is_standard_include=*/false);

    bool failedAny = false;
    for (func::FuncOp func :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isDeclaration()) {
        func.erase();
        continue;
      }
      if (failed(LauncherLowering(func, fuseGather).run()))
        failedAny = true;
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
