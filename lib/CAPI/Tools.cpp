//===- Tools.cpp - parse, verify, run pipelines, print --------------------===//

#include "moe-c/Tools.h"
#include "moe-c/Registration.h"
#include "moe/Target/CUDA/TranslateToCUDA.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace {
/// Forwards every diagnostic emitted while it lives to a C callback, as one
/// "<loc>: <severity>: <message>" string with its notes appended.
class CallbackDiagnostics {
public:
  CallbackDiagnostics(MLIRContext *ctx, MlirStringCallback callback,
                      void *userData)
      : handler(ctx, [=](Diagnostic &diag) {
          if (!callback)
            return success();
          std::string text;
          llvm::raw_string_ostream os(text);
          format(os, diag);
          for (Diagnostic &note : diag.getNotes()) {
            os << "\n";
            format(os, note);
          }
          callback(mlirStringRefCreate(text.data(), text.size()), userData);
          return success();
        }) {}

private:
  static void format(llvm::raw_ostream &os, Diagnostic &diag) {
    // "file:line:col" like the command-line tools, when there is one.
    if (auto fileLoc = diag.getLocation()->findInstanceOf<FileLineColLoc>())
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn() << ": ";
    else
      os << diag.getLocation() << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag.str();
  }
  ScopedDiagnosticHandler handler;
};
} // namespace

MlirContext moeContextCreate(void) {
  MlirContext context = mlirContextCreateWithThreading(false);
  moeRegisterAllDialects(context);
  // The message and its location are enough; the op dump is noise here.
  unwrap(context)->printOpOnDiagnostic(false);
  return context;
}

MlirModule moeParseModule(MlirContext context, MlirStringRef source,
                          MlirStringRef filename,
                          MlirStringCallback onDiagnostic, void *userData) {
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

MlirLogicalResult moeVerify(MlirOperation op, MlirStringCallback onDiagnostic,
                            void *userData) {
  Operation *operation = unwrap(op);
  CallbackDiagnostics diags(operation->getContext(), onDiagnostic, userData);
  return wrap(verify(operation));
}

MlirLogicalResult moeRunPipeline(MlirOperation op, MlirStringRef pipeline,
                                 MlirStringCallback onDiagnostic,
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
      emitError(operation->getLoc())
          << "invalid pass pipeline '" << text << "': " << errors;
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

MlirLogicalResult moeTranslateToCUDA(MlirOperation module, bool header,
                                     MlirStringCallback output,
                                     void *outputUserData,
                                     MlirStringCallback onDiagnostic,
                                     void *userData) {
  Operation *op = unwrap(module);
  CallbackDiagnostics diags(op->getContext(), onDiagnostic, userData);
  moeRegisterAllPasses();
  // The translation lowers in place: work on a copy, the caller's module
  // stays as it was.
  OwningOpRef<Operation *> copy(op->clone());
  std::string text;
  llvm::raw_string_ostream os(text);
  LogicalResult result = header ? moe::translateToCUDAHeader(*copy, os)
                                : moe::translateToCUDA(*copy, os);
  os.flush();
  if (succeeded(result) && output)
    output(mlirStringRefCreate(text.data(), text.size()), outputUserData);
  return wrap(result);
}
