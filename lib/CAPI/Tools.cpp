//===- Tools.cpp - parse, verify, run pipelines, print --------------------===//

#include "moe-c/Tools.h"
#include "moe-c/Registration.h"
#include "moe/Pipelines/Pipelines.h"
#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/StringSaver.h"

using namespace mlir;

namespace {
/// Forwards every diagnostic emitted while it lives to a C callback as a
/// MoeDiagnostic. The strings and notes it points to are allocated per
/// diagnostic and freed when the callback returns.
class CallbackDiagnostics {
public:
  CallbackDiagnostics(MLIRContext *ctx, MoeDiagnosticCallback callback,
                      void *userData)
      : handler(ctx, [=](Diagnostic &diag) {
          if (!callback)
            return success();
          llvm::BumpPtrAllocator allocator;
          MoeDiagnostic converted = convert(diag, allocator);
          callback(&converted, userData);
          return success();
        }) {}

private:
  static MoeDiagnosticSeverity convert(DiagnosticSeverity severity) {
    switch (severity) {
    case DiagnosticSeverity::Error:
      return MoeSeverityError;
    case DiagnosticSeverity::Warning:
      return MoeSeverityWarning;
    case DiagnosticSeverity::Note:
      return MoeSeverityNote;
    case DiagnosticSeverity::Remark:
      return MoeSeverityRemark;
    }
    llvm_unreachable("unknown diagnostic severity");
  }

  /// `diag` with its strings and notes copied into `allocator`.
  static MoeDiagnostic convert(Diagnostic &diag,
                               llvm::BumpPtrAllocator &allocator) {
    llvm::StringSaver saver(allocator);
    MoeDiagnostic result = {};
    result.severity = convert(diag.getSeverity());
    result.message = wrap(saver.save(diag.str()));
    Location loc = diag.getLocation();
    // "file:line:col" like the command-line tools, when there is one.
    if (auto fileLoc = loc->findInstanceOf<FileLineColLoc>()) {
      result.file = wrap(saver.save(fileLoc.getFilename().getValue()));
      result.line = static_cast<int32_t>(fileLoc.getLine());
      result.column = static_cast<int32_t>(fileLoc.getColumn());
    }
    std::string printed;
    llvm::raw_string_ostream os(printed);
    os << loc;
    result.location = wrap(saver.save(printed));
    auto notes = diag.getNotes();
    result.numNotes = static_cast<intptr_t>(llvm::range_size(notes));
    if (result.numNotes > 0) {
      MoeDiagnostic *array = allocator.Allocate<MoeDiagnostic>(result.numNotes);
      for (auto [i, note] : llvm::enumerate(notes))
        array[i] = convert(note, allocator);
      result.notes = array;
    }
    return result;
  }

  ScopedDiagnosticHandler handler;
};
} // namespace

using CUDAPrinter = LogicalResult (*)(Operation *, llvm::raw_ostream &);

/// The translation that prints `kind`; null for a value outside the enum.
static CUDAPrinter getCUDAPrinter(MoeCUDAOutput kind) {
  switch (kind) {
  case MoeCUDAOutputSource:
    return moe::translateToCUDA;
  case MoeCUDAOutputHeader:
    return moe::translateToCUDAHeader;
  case MoeCUDAOutputManifest:
    return moe::translateToCUDAManifest;
  }
  return nullptr;
}

MlirContext moeContextCreate(void) {
  MlirContext context = mlirContextCreateWithThreading(false);
  moeRegisterAllDialects(context);
  // The message and its location are enough; the op dump is noise here.
  unwrap(context)->printOpOnDiagnostic(false);
  return context;
}

MlirModule moeParseModule(MlirContext context, MlirStringRef source,
                          MlirStringRef filename,
                          MoeDiagnosticCallback onDiagnostic, void *userData) {
  MLIRContext *ctx = unwrap(context);
  CallbackDiagnostics diags(ctx, onDiagnostic, userData);
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(unwrap(source), unwrap(filename));
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(ctx));
  if (!module)
    return MlirModule{nullptr};
  return wrap(module.release());
}

MlirLogicalResult moeVerify(MlirOperation op,
                            MoeDiagnosticCallback onDiagnostic,
                            void *userData) {
  Operation *operation = unwrap(op);
  CallbackDiagnostics diags(operation->getContext(), onDiagnostic, userData);
  return wrap(verify(operation));
}

MlirLogicalResult moeRunPipeline(MlirOperation op, MlirStringRef pipeline,
                                 MoeDiagnosticCallback onDiagnostic,
                                 void *userData) {
  Operation *operation = unwrap(op);
  MLIRContext *ctx = operation->getContext();
  CallbackDiagnostics diags(ctx, onDiagnostic, userData);
  moeRegisterAllPasses();

  // Accept both "builtin.module(a,b)" and the bare "a,b": an anchored string
  // is used as is when it names this op, anything else is nested under it.
  StringRef text = unwrap(pipeline);
  StringRef opName = operation->getName().getStringRef();
  std::string discarded;
  llvm::raw_string_ostream discardStream(discarded);
  FailureOr<OpPassManager> parsed = parsePassPipeline(text, discardStream);
  if (failed(parsed) || parsed->getOpName() != opName) {
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    parsed = parsePassPipeline((opName + "(" + text + ")").str(), errorStream);
    if (failed(parsed)) {
      emitError(operation->getLoc()) << "invalid pass pipeline '" << text
                                     << "': " << StringRef(errors).rtrim();
      return wrap(failure());
    }
  }
  PassManager pm(ctx, opName);
  pm.enableVerifier(true);
  static_cast<OpPassManager &>(pm) = std::move(*parsed);
  return wrap(pm.run(operation));
}

void moePrintOperation(MlirOperation op, bool generic,
                       MlirStringCallback callback, void *userData) {
  detail::CallbackOstream stream(callback, userData);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  unwrap(op)->print(stream, flags);
  stream.flush();
}

MlirLogicalResult moeTranslateToCUDA(MlirOperation module, MoeCUDAOutput kind,
                                     MlirStringCallback output,
                                     void *outputUserData,
                                     MoeDiagnosticCallback onDiagnostic,
                                     void *userData) {
  Operation *op = unwrap(module);
  CallbackDiagnostics diags(op->getContext(), onDiagnostic, userData);
  CUDAPrinter print = getCUDAPrinter(kind);
  if (!print) {
    emitError(op->getLoc())
        << "unknown CUDA output kind " << static_cast<int>(kind);
    return wrap(failure());
  }
  moeRegisterAllPasses();
  // Lowering works in place: work on a copy, the caller's module stays as it
  // was.
  OwningOpRef<Operation *> copy(op->clone());
  if (failed(moe::lowerToCUDAIfNeeded(*copy)))
    return wrap(failure());
  std::string text;
  llvm::raw_string_ostream os(text);
  LogicalResult result = print(*copy, os);
  os.flush();
  if (succeeded(result) && output)
    output(mlirStringRefCreate(text.data(), text.size()), outputUserData);
  return wrap(result);
}
