//===- MoeGPUToEmitC.cpp - the convert-moegpu-to-emitc pass ---------------===//
//
// Planned launchers (after moegpu-plan-memory) become EmitC: each launcher
// an `extern "C"` host function that checks its arguments and launches its
// kernels on a stream, each workspace-size function an `extern "C"`
// function of the token count, each kernel op a specialisation of a
// hand-written kernel of include/moe/Runtime/cuda (its own pattern). The
// launcher keeps its moegpu.param attributes (with the tensor types), from
// which moe-translate prints the header and the manifest.
//
//===----------------------------------------------------------------------===//

#include "EmitCUtils.h"

#include "moe/Conversion/MoeGPUToEmitC/MoeGPUToEmitC.h"
#include "moe/Conversion/Passes.h"
#include "moe/Dialect/MoeGPU/IR/MoeGPUOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::moe {
#define GEN_PASS_DEF_CONVERTMOEGPUTOEMITC
#include "moe/Conversion/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moegpu;
using namespace mlir::moegpu::emitcuda;

void mlir::moegpu::populateMoeGPUToEmitCTypeConversion(
    TypeConverter &converter) {
  converter.addConversion([](Type type) -> std::optional<Type> {
    if (isa<emitc::EmitCDialect>(type.getDialect()))
      return type;
    return std::nullopt;
  });
  converter.addConversion([](IndexType type) -> Type {
    return IntegerType::get(type.getContext(), 64);
  });
  converter.addConversion([](IntegerType type) { return type; });
  converter.addConversion([](FloatType type) { return type; });
  converter.addConversion([](MemRefType type) -> Type {
    return pointer(type.getContext(), type.getElementType());
  });
}

//===----------------------------------------------------------------------===//
// Launchers and workspace-size functions
//===----------------------------------------------------------------------===//

static ParamAttr paramOf(func::FuncOp func, unsigned i) {
  return func.getArgAttrOfType<ParamAttr>(i, MoeGPUDialect::kParamAttrName);
}

/// The most tokens a dynamic launcher takes (moegpu-plan-memory's bound).
static FailureOr<int64_t> maxTokensOf(func::FuncOp func) {
  if (auto most =
          func->getAttrOfType<IntegerAttr>(MoeGPUDialect::kMaxTokensAttrName))
    return most.getInt();
  return func.emitError("a launcher with a dynamic token count has a bound "
                        "('moegpu.max_tokens'): run moegpu-plan-memory");
}

namespace {
/// func.func @name(...) of a launcher -> extern "C" cudaError_t name(...,
/// cudaStream_t stream): inputs as const pointers, outputs as pointers,
/// the workspace as void*, num_tokens as int64_t; argument checks first.
struct LauncherToEmitC : OpConversionPattern<func::FuncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(func::FuncOp func, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (func->hasAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName))
      return failure();
    MLIRContext *ctx = func.getContext();
    if (func.isExternal())
      return func.emitError("a launcher has a body; a declaration is not one "
                            "(moegpu input holds launchers only)");
    if (func.getNumResults())
      return func.emitError("a launcher returns nothing: run "
                            "moegpu-plan-memory first");
    TypeConverter::SignatureConversion signature(func.getNumArguments());
    SmallVector<Type> params;
    SmallVector<Attribute> argAttrs;
    Value numTokens, workspace;
    unsigned numTokenParams = 0, numWorkspaceParams = 0;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      ParamAttr param = paramOf(func, i);
      Type type = func.getArgument(i).getType();
      if (!param)
        return func.emitError() << "argument #" << i
                                << " has no moegpu.param: run "
                                   "moegpu-configure first";
      Type converted;
      switch (param.getRole()) {
      case ParamRole::input:
      case ParamRole::output: {
        auto memref = dyn_cast<MemRefType>(type);
        if (!memref)
          return func.emitError()
                 << "argument #" << i << " must be a memref (bufferize the "
                 << "launcher first), not " << type;
        converted = param.getRole() == ParamRole::input
                        ? constPointer(ctx, memref.getElementType())
                        : pointer(ctx, memref.getElementType());
        break;
      }
      case ParamRole::workspace:
        converted = emitc::PointerType::get(opaque(ctx, "void"));
        ++numWorkspaceParams;
        break;
      case ParamRole::num_tokens:
        converted = rewriter.getI64Type();
        ++numTokenParams;
        break;
      case ParamRole::stream:
        return func.emitError("a launcher gets its stream parameter here");
      }
      signature.addInputs(i, converted);
      params.push_back(converted);
      argAttrs.push_back(DictionaryAttr::get(
          ctx, {NamedAttribute(
                   MoeGPUDialect::kParamAttrName,
                   ParamAttr::get(ctx, param.getRole(), param.getName(),
                                  param.getRows(),
                                  // The workspace is untyped bytes; its
                                  // memref type is the plan's business.
                                  param.getRole() != ParamRole::workspace &&
                                          isa<MemRefType>(type)
                                      ? type
                                      : Type()))}));
    }
    if (numTokenParams != 1 || numWorkspaceParams > 1)
      return func.emitError()
             << "a launcher has one num_tokens parameter and at most one "
                "workspace, not "
             << numTokenParams << " and " << numWorkspaceParams;
    Type streamType = opaque(ctx, "cudaStream_t");
    signature.addInputs(streamType);
    params.push_back(streamType);
    argAttrs.push_back(DictionaryAttr::get(
        ctx, {NamedAttribute(MoeGPUDialect::kParamAttrName,
                             ParamAttr::get(ctx, ParamRole::stream, "stream",
                                            AffineMapAttr(), Type()))}));

    auto launcher = emitc::FuncOp::create(
        rewriter, func.getLoc(), func.getName(),
        rewriter.getFunctionType(params, {opaque(ctx, "cudaError_t")}));
    launcher.setSpecifiersAttr(rewriter.getStrArrayAttr({"extern \"C\""}));
    launcher.setAllArgAttrs(argAttrs);
    for (StringRef name :
         {MoeGPUDialect::kStaticTokensAttrName,
          MoeGPUDialect::kMaxTokensAttrName, MoeGPUDialect::kWorkspaceAttrName})
      if (Attribute attr = func->getAttr(name))
        launcher->setAttr(name, attr);
    rewriter.inlineRegionBefore(func.getBody(), launcher.getBody(),
                                launcher.end());
    Block *entry = rewriter.applySignatureConversion(
        &launcher.getBody().front(), signature);
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      ParamRole role = paramOf(func, i).getRole();
      if (role == ParamRole::num_tokens)
        numTokens = entry->getArgument(i);
      if (role == ParamRole::workspace)
        workspace = entry->getArgument(i);
    }

    // A token count out of range (negative, past the plan's bound, or not
    // a static launcher's) and a missing workspace are invalid values.
    ImplicitLocOpBuilder b(func.getLoc(), rewriter);
    b.setInsertionPointToStart(entry);
    if (auto tokens = func->getAttrOfType<IntegerAttr>(
            MoeGPUDialect::kStaticTokensAttrName)) {
      emitVerbatim(b, "if ({} < 0) return cudaErrorInvalidValue;", numTokens);
      emitVerbatim(
          b,
          llvm::formatv("if ({{} != {0}) return cudaErrorInvalidValue;",
                        tokens.getInt())
              .str(),
          numTokens);
    } else {
      FailureOr<int64_t> most = maxTokensOf(func);
      if (failed(most))
        return failure();
      emitVerbatim(b,
                   llvm::formatv("if ({{} < 0 || {{} > {0}) return "
                                 "cudaErrorInvalidValue;",
                                 *most)
                       .str(),
                   ValueRange{numTokens, numTokens});
    }
    if (workspace) {
      auto plan =
          func->getAttrOfType<WorkspaceAttr>(MoeGPUDialect::kWorkspaceAttrName);
      if (!plan)
        return func.emitError("a launcher with a workspace has a plan: run "
                              "moegpu-plan-memory");
      emitVerbatim(b,
                   ("if ({} == nullptr && " + plan.getFunction() +
                    "({}) > 0) return cudaErrorInvalidValue;")
                       .str(),
                   ValueRange{workspace, numTokens});
    }
    rewriter.eraseOp(func);
    return success();
  }
};

/// func.func @<launcher>_workspace_size(%num_tokens: index) -> index ->
/// extern "C" size_t <launcher>_workspace_size(int64_t num_tokens), 0 for
/// a count the launcher rejects (negative or past its bound).
struct WorkspaceSizeToEmitC : OpConversionPattern<func::FuncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(func::FuncOp func, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!func->hasAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName))
      return failure();
    MLIRContext *ctx = func.getContext();
    if (func.isExternal() || func.getNumArguments() != 1 ||
        func.getNumResults() != 1)
      return func.emitError("a workspace-size function maps num_tokens to "
                            "bytes");
    Type i64 = rewriter.getI64Type();
    auto fn = emitc::FuncOp::create(
        rewriter, func.getLoc(), func.getName(),
        rewriter.getFunctionType({i64}, {opaque(ctx, "size_t")}));
    fn.setSpecifiersAttr(rewriter.getStrArrayAttr({"extern \"C\""}));
    fn->setAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName,
                func->getAttr(MoeGPUDialect::kWorkspaceSizeOfAttrName));
    fn.setArgAttrs(0, func.getArgAttrDict(0));
    rewriter.inlineRegionBefore(func.getBody(), fn.getBody(), fn.end());
    TypeConverter::SignatureConversion signature(1);
    signature.addInputs(0, i64);
    Block *entry =
        rewriter.applySignatureConversion(&fn.getBody().front(), signature);
    ImplicitLocOpBuilder b(func.getLoc(), rewriter);
    b.setInsertionPointToStart(entry);
    // The launcher may be converted already: both forms carry the bound.
    Operation *launcher = SymbolTable::lookupNearestSymbolFrom(
        func, func->getAttrOfType<FlatSymbolRefAttr>(
                  MoeGPUDialect::kWorkspaceSizeOfAttrName));
    auto most = launcher ? launcher->getAttrOfType<IntegerAttr>(
                               MoeGPUDialect::kMaxTokensAttrName)
                         : IntegerAttr();
    if (most)
      emitVerbatim(
          b,
          llvm::formatv("if ({{} < 0 || {{} > {0}) return 0;", most.getInt())
              .str(),
          ValueRange{entry->getArgument(0), entry->getArgument(0)});
    else
      emitVerbatim(b, "if ({} < 0) return 0;", entry->getArgument(0));
    rewriter.eraseOp(func);
    return success();
  }
};

/// A launcher returns cudaSuccess after its launches; a size function its
/// size as size_t.
struct ReturnToEmitC : OpConversionPattern<func::ReturnOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(func::ReturnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = op.getContext();
    if (adaptor.getOperands().empty()) {
      Value ok = emitc::LiteralOp::create(
          rewriter, op.getLoc(), opaque(ctx, "cudaError_t"), "cudaSuccess");
      rewriter.replaceOpWithNewOp<emitc::ReturnOp>(op, ok);
      return success();
    }
    if (adaptor.getOperands().size() != 1)
      return failure();
    Value size = emitc::CastOp::create(
        rewriter, op.getLoc(), opaque(ctx, "size_t"), adaptor.getOperands()[0]);
    rewriter.replaceOpWithNewOp<emitc::ReturnOp>(op, size);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Index arithmetic (sizes, offsets, regimes) as int64_t
//===----------------------------------------------------------------------===//

struct ConstantToEmitC : OpConversionPattern<arith::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<IntegerAttr>(op.getValue());
    if (!value || !op.getType().isIndex())
      return rewriter.notifyMatchFailure(op, "not an index constant");
    rewriter.replaceOpWithNewOp<emitc::LiteralOp>(
        op, rewriter.getI64Type(),
        std::to_string(value.getValue().getSExtValue()));
    return success();
  }
};

template <typename ArithOp, typename EmitCOp>
struct BinaryToEmitC : OpConversionPattern<ArithOp> {
  using OpConversionPattern<ArithOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ArithOp op, typename ArithOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<EmitCOp>(op, rewriter.getI64Type(),
                                         adaptor.getLhs(), adaptor.getRhs());
    return success();
  }
};

struct CeilDivToEmitC : OpConversionPattern<arith::CeilDivSIOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::CeilDivSIOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
        op, rewriter.getI64Type(), "moe::cuda::divUp",
        ValueRange{adaptor.getLhs(), adaptor.getRhs()});
    return success();
  }
};

static emitc::CmpPredicate emitcPredicate(arith::CmpIPredicate p) {
  switch (p) {
  case arith::CmpIPredicate::eq:
    return emitc::CmpPredicate::eq;
  case arith::CmpIPredicate::ne:
    return emitc::CmpPredicate::ne;
  case arith::CmpIPredicate::slt:
  case arith::CmpIPredicate::ult:
    return emitc::CmpPredicate::lt;
  case arith::CmpIPredicate::sle:
  case arith::CmpIPredicate::ule:
    return emitc::CmpPredicate::le;
  case arith::CmpIPredicate::sgt:
  case arith::CmpIPredicate::ugt:
    return emitc::CmpPredicate::gt;
  case arith::CmpIPredicate::sge:
  case arith::CmpIPredicate::uge:
    return emitc::CmpPredicate::ge;
  }
  llvm_unreachable("unknown predicate");
}

struct CmpToEmitC : OpConversionPattern<arith::CmpIOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::CmpIOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<emitc::CmpOp>(
        op, rewriter.getI1Type(), emitcPredicate(op.getPredicate()),
        adaptor.getLhs(), adaptor.getRhs());
    return success();
  }
};

struct SelectToEmitC : OpConversionPattern<arith::SelectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::SelectOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<emitc::ConditionalOp>(
        op, adaptor.getTrueValue().getType(), adaptor.getCondition(),
        adaptor.getTrueValue(), adaptor.getFalseValue());
    return success();
  }
};

/// min/max as `a < b ? a : b`.
template <typename ArithOp, emitc::CmpPredicate Keep>
struct MinMaxToEmitC : OpConversionPattern<ArithOp> {
  using OpConversionPattern<ArithOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ArithOp op, typename ArithOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value keepLhs =
        emitc::CmpOp::create(rewriter, op.getLoc(), rewriter.getI1Type(), Keep,
                             adaptor.getLhs(), adaptor.getRhs());
    rewriter.replaceOpWithNewOp<emitc::ConditionalOp>(
        op, rewriter.getI64Type(), keepLhs, adaptor.getLhs(), adaptor.getRhs());
    return success();
  }
};

/// memref.view %workspace[%offset] -> moe::cuda::workspaceView<T>(ws, off).
struct ViewToEmitC : OpConversionPattern<memref::ViewOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::ViewOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = op.getContext();
    Type element = op.getType().getElementType();
    rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
        op, pointer(ctx, element), "moe::cuda::workspaceView",
        ValueRange{adaptor.getSource(), adaptor.getByteShift()}, ArrayAttr(),
        rewriter.getArrayAttr(
            {emitc::OpaqueAttr::get(ctx, cElementType(element))}));
    return success();
  }
};
} // namespace

void mlir::moegpu::populateLauncherToEmitCPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LauncherToEmitC, WorkspaceSizeToEmitC, ReturnToEmitC,
               ConstantToEmitC, CeilDivToEmitC, CmpToEmitC, SelectToEmitC,
               BinaryToEmitC<arith::AddIOp, emitc::AddOp>,
               BinaryToEmitC<arith::SubIOp, emitc::SubOp>,
               BinaryToEmitC<arith::MulIOp, emitc::MulOp>,
               BinaryToEmitC<arith::DivSIOp, emitc::DivOp>,
               BinaryToEmitC<arith::RemSIOp, emitc::RemOp>,
               MinMaxToEmitC<arith::MinSIOp, emitc::CmpPredicate::lt>,
               MinMaxToEmitC<arith::MaxSIOp, emitc::CmpPredicate::gt>>(
      converter, ctx);
  // The workspace is a void* (not what a memref<?xi8> converts to): take
  // the mapped value as it is.
  patterns.add<ViewToEmitC>(ctx);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertMoeGPUToEmitCPass
    : mlir::moe::impl::ConvertMoeGPUToEmitCBase<ConvertMoeGPUToEmitCPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    // Kernel names: <launcher>_k<index of the kernel op in the launcher>.
    KernelNames names;
    module.walk([&](KernelOpInterface kernel) {
      auto func = kernel->getParentOfType<func::FuncOp>();
      names[kernel] =
          llvm::formatv("{0}_k{1}", func.getName(), kernelIndex(kernel)).str();
    });

    ImplicitLocOpBuilder b(module.getLoc(), ctx);
    b.setInsertionPointToStart(module.getBody());
    for (StringRef header : {"cuda_runtime.h", "stdint.h"})
      emitc::IncludeOp::create(b, header, /*is_standard_include=*/true);
    for (StringRef header :
         {"moe/Runtime/cuda/Loss.cuh", "moe/Runtime/cuda/Dispatch.cuh",
          "moe/Runtime/cuda/Experts.cuh"})
      emitc::IncludeOp::create(b, header, /*is_standard_include=*/false);
    // The FP8 kernels only where a module has them.
    bool fp8 = module
                   .walk([](Operation *op) {
                     auto gemm = dyn_cast<GroupedGemmOp>(op);
                     return isa<QuantizeOp>(op) || (gemm && gemm.isFP8())
                                ? WalkResult::interrupt()
                                : WalkResult::advance();
                   })
                   .wasInterrupted();
    if (fp8)
      emitc::IncludeOp::create(b, "moe/Runtime/cuda/ExpertsFp8Sm90.cuh",
                               /*is_standard_include=*/false);

    TypeConverter converter;
    populateMoeGPUToEmitCTypeConversion(converter);
    RewritePatternSet patterns(ctx);
    populateLauncherToEmitCPatterns(converter, patterns);
    populateRoutingToEmitCPatterns(converter, patterns, names);
    populateDispatchToEmitCPatterns(converter, patterns, names);
    populateGemmToEmitCPatterns(converter, patterns, names);
    populateCopyToEmitCPatterns(converter, patterns, names);

    ConversionTarget target(*ctx);
    target.addLegalDialect<emitc::EmitCDialect>();
    target.addIllegalDialect<MoeGPUDialect, arith::ArithDialect,
                             memref::MemRefDialect, func::FuncDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns)))) {
      signalPassFailure();
      return;
    }
    eraseDeadExpressions(module);
  }

  /// Sizes that only the memref types used (a view's dynamic sizes) end up
  /// unused: drop them rather than print unused variables.
  static void eraseDeadExpressions(ModuleOp module) {
    bool changed = true;
    while (changed) {
      changed = false;
      module.walk([&](Operation *op) {
        auto expr = dyn_cast<emitc::CExpressionInterface>(op);
        // divUp (a ceildiv) is a pure runtime helper.
        auto call = dyn_cast<emitc::CallOpaqueOp>(op);
        bool pureCall = call && call.getCallee() == "moe::cuda::divUp";
        if (op->getNumResults() == 1 && op->use_empty() &&
            (isa<emitc::LiteralOp>(op) || pureCall ||
             (expr && !expr.hasSideEffects()))) {
          op->erase();
          changed = true;
        }
      });
    }
  }
};
} // namespace
