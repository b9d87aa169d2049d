//===- MoeToEmitC.cpp - the convert-moe-to-emitc pass ---------------------===//
//
// Turns each func.func of fused moe ops into an `extern "C"` host launcher
// and one `__global__` kernel per op. The launcher takes a device pointer per
// tensor argument (const) and per result (written), the token count and a
// stream; it checks its arguments and returns the first CUDA error.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"
#include "RoutingToEmitC.h"

#include "moe/Conversion/Passes.h"
#include "moe/Dialect/Moe/IR/MoeOps.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
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
  if (auto route = dyn_cast<FusedRouteOp>(op))
    return index == 0 ? (route.getFunc() ? "logits" : "scores") : "bias";
  return "";
}
static StringRef resultName(Operation *op, unsigned index) {
  if (isa<FusedRouteOp>(op))
    return index == 0 ? "ids" : index == 1 ? "weights" : "counts";
  return "";
}

static std::string describe(RankedTensorType type) {
  std::string text = "[";
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d)
      text += ", ";
    text += type.isDynamicDim(d) ? std::string("num_tokens")
                                 : std::to_string(type.getDimSize(d));
  }
  return text + "]";
}

namespace {
class LauncherLowering {
public:
  explicit LauncherLowering(func::FuncOp func) : func(func) {}

  LogicalResult run() {
    if (failed(check()))
      return failure();
    MLIRContext *ctx = func.getContext();
    ImplicitLocOpBuilder m(func.getLoc(), func);
    FunctionType type = func.getFunctionType();

    // Parameters: inputs, outputs, num_tokens, stream.
    SmallVector<Type> params;
    SmallVector<Attribute> names, cTypes;
    llvm::StringMap<unsigned> used;
    auto addParam = [&](Type t, std::string name, std::string cType) {
      unsigned n = used[name]++;
      if (n)
        name += std::to_string(n);
      params.push_back(t);
      names.push_back(m.getStringAttr(name));
      cTypes.push_back(m.getStringAttr(cType));
    };
    std::string doc;
    for (auto [i, t] : llvm::enumerate(type.getInputs())) {
      auto tensor = cast<RankedTensorType>(t);
      std::string name = inputNames[i].empty() ? "arg" + std::to_string(i)
                                               : inputNames[i].str();
      addParam(constPointer(ctx, tensor.getElementType()), name,
               "const " + cElementType(tensor.getElementType()) + "*");
      doc += "  " + cast<StringAttr>(names.back()).str() + ": " +
             describe(tensor) + " " + cElementType(tensor.getElementType()) +
             " (input)\n";
    }
    for (auto [i, t] : llvm::enumerate(type.getResults())) {
      auto tensor = cast<RankedTensorType>(t);
      std::string name = resultNames[i].empty() ? "result" + std::to_string(i)
                                                : resultNames[i].str();
      addParam(pointer(ctx, tensor.getElementType()), name,
               cElementType(tensor.getElementType()) + "*");
      doc += "  " + cast<StringAttr>(names.back()).str() + ": " +
             describe(tensor) + " " + cElementType(tensor.getElementType()) +
             " (output)\n";
    }
    addParam(m.getI64Type(), "num_tokens", "int64_t");
    addParam(opaque(ctx, "cudaStream_t"), "stream", "cudaStream_t");

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
    Value numTokens = entry->getArgument(numInputs + numResults);
    Value stream = entry->getArgument(numInputs + numResults + 1);

    // Kernels go right before the launcher, in op order.
    ImplicitLocOpBuilder body(func.getLoc(), ctx);
    body.setInsertionPointToStart(entry);
    emitc::VerbatimOp::create(
        body, body.getStringAttr("if ({} < 0) return cudaErrorInvalidValue;"),
        ValueRange{numTokens});
    if (staticTokens)
      emitc::VerbatimOp::create(
          body,
          body.getStringAttr(llvm::formatv("if ({{} != {0}) return "
                                           "cudaErrorInvalidValue;",
                                           *staticTokens)
                                 .str()),
          ValueRange{numTokens});

    m.setInsertionPoint(launcher);
    auto bufferOf = [&](Value v) -> Value {
      if (auto arg = dyn_cast<BlockArgument>(v))
        if (arg.getOwner() == &func.getBody().front())
          return entry->getArgument(arg.getArgNumber());
      auto it = resultIndex.find(v);
      if (it != resultIndex.end())
        return entry->getArgument(numInputs + it->second);
      return Value();
    };
    unsigned index = 0;
    for (Operation &op : func.getBody().front().without_terminator()) {
      LaunchContext lctx{
          m,
          body,
          (func.getName() + "_k" + std::to_string(index++)).str(),
          bufferOf,
          numTokens,
          stream};
      if (auto route = dyn_cast<FusedRouteOp>(op)) {
        if (failed(emitFusedRoute(route, lctx)))
          return failure();
      }
    }
    Value ok = emitc::LiteralOp::create(body, errorType, "cudaSuccess");
    emitc::ReturnOp::create(body, ok);
    func.erase();
    return success();
  }

private:
  /// Only fused ops of supported kinds, operands from the arguments,
  /// results straight to the function results.
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
      if (isa<ScoreOp, RouteOp, ExpertCountsOp>(op))
        return op.emitOpError() << "is not fused: run moe-fuse-routing first "
                                   "(moe-lower-to-cuda does)";
      if (!isa<FusedRouteOp>(op))
        return op.emitOpError() << "has no CUDA lowering yet";
      for (auto [i, v] : llvm::enumerate(op.getOperands()))
        if (auto arg = dyn_cast<BlockArgument>(v))
          if (inputNames[arg.getArgNumber()].empty())
            inputNames[arg.getArgNumber()] = operandName(&op, i);
      for (auto [i, v] : llvm::enumerate(op.getResults())) {
        auto it = resultIndex.find(v);
        if (it != resultIndex.end())
          resultNames[it->second] = resultName(&op, i);
      }
      int64_t t =
          cast<RankedTensorType>(op.getOperand(0).getType()).getDimSize(0);
      if (!ShapedType::isDynamic(t))
        staticTokens = t;
    }
    return success();
  }

  func::FuncOp func;
  DenseMap<Value, unsigned> resultIndex;
  SmallVector<StringRef> inputNames, resultNames;
  std::optional<int64_t> staticTokens;
};

struct ConvertMoeToEmitCPass
    : moe::impl::ConvertMoeToEmitCBase<ConvertMoeToEmitCPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    ImplicitLocOpBuilder b(module.getLoc(), module.getContext());
    b.setInsertionPointToStart(module.getBody());
    emitc::IncludeOp::create(b, "cuda_runtime.h", /*is_standard_include=*/true);
    emitc::IncludeOp::create(b, "stdint.h", /*is_standard_include=*/true);
    emitc::IncludeOp::create(b, "moe/Runtime/cuda/Routing.cuh",
                             /*is_standard_include=*/false);

    bool failedAny = false;
    for (func::FuncOp func :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isDeclaration()) {
        func.erase();
        continue;
      }
      if (failed(LauncherLowering(func).run()))
        failedAny = true;
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
