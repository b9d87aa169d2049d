//===- moe-capi-test.c - exercise the moe C API --------------------------===//
// RUN: moe-capi-test 2>&1 | FileCheck %s

#include "moe-c/Dialects.h"
#include "moe-c/Registration.h"
#include "moe-c/Tools.h"

#include "mlir-c/IR.h"

#include <stdio.h>
#include <string.h>

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static const char *severityName(MoeDiagnosticSeverity severity) {
  switch (severity) {
  case MoeSeverityError:
    return "error";
  case MoeSeverityWarning:
    return "warning";
  case MoeSeverityNote:
    return "note";
  case MoeSeverityRemark:
    return "remark";
  }
  return "?";
}

static void printFields(const MoeDiagnostic *diag, const char *indent) {
  printf("%sseverity: %s\n", indent, severityName(diag->severity));
  printf("%smessage: [%.*s]\n", indent, (int)diag->message.length,
         diag->message.data);
  printf("%sfile: [%.*s]\n", indent, (int)diag->file.length, diag->file.data);
  printf("%sline: %d\n", indent, (int)diag->line);
  printf("%scolumn: %d\n", indent, (int)diag->column);
  printf("%slocation: %.*s\n", indent, (int)diag->location.length,
         diag->location.data);
  printf("%snotes: %d\n", indent, (int)diag->numNotes);
}

// Prints every field of a diagnostic and of its notes, one per line.
static void printDiagnostic(const MoeDiagnostic *diag, void *userData) {
  int *count = (int *)userData;
  ++*count;
  printf("diagnostic:\n");
  printFields(diag, "  ");
  for (intptr_t i = 0; i < diag->numNotes; ++i) {
    printf("  note %d:\n", (int)i);
    printFields(&diag->notes[i], "    ");
  }
}

static const char *kLayer =
    "func.func @layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>,\n"
    "                 %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>)\n"
    "    -> tensor<4x16xf32> {\n"
    "  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2\n"
    "      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>,\n"
    "         tensor<8x16x6xf32>) -> tensor<4x16xf32>\n"
    "  return %y : tensor<4x16xf32>\n"
    "}\n";

static const char *kBadGroups =
    "func.func @bad(%s: tensor<4x8xf32>) {\n"
    "  %ids, %w = moe.route %s k = 2 groups = 3\n"
    "      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)\n"
    "  return\n"
    "}\n";

// The symbol table verifier reports the second @f with a note at the first.
static const char *kRedefined = "func.func @f() {\n"
                                "  return\n"
                                "}\n"
                                "func.func @f() {\n"
                                "  return\n"
                                "}\n";

// moe-plan-dispatch reports its plan as a remark.
static const char *kTopology =
    "func.func @plan(%s: tensor<?x64xf32>) -> tensor<?x6xi32> {\n"
    "  %ids, %w = moe.route %s k = 6 groups = 4 group_topk = 1\n"
    "      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 4,\n"
    "                                    experts_per_gpu = 8>}\n"
    "      : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)\n"
    "  return %ids : tensor<?x6xi32>\n"
    "}\n";

static MlirModule parse(MlirContext ctx, const char *source,
                        const char *filename, int *diagnostics) {
  return moeParseModule(ctx, mlirStringRefCreateFromCString(source),
                        mlirStringRefCreateFromCString(filename),
                        printDiagnostic, diagnostics);
}

int main(void) {
  // The dialect handle works on a plain context too.
  MlirContext plain = mlirContextCreate();
  MlirDialectHandle handle = mlirGetDialectHandle__moe__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  // CHECK: dialect namespace: moe
  printf("dialect namespace: %.*s\n", (int)ns.length, ns.data);
  mlirDialectHandleLoadDialect(handle, plain);
  // CHECK: loaded: 1
  printf("loaded: %d\n", !mlirDialectIsNull(mlirContextGetOrLoadDialect(
                             plain, mlirStringRefCreateFromCString("moe"))));
  mlirContextDestroy(plain);

  moeRegisterAllPasses();
  MlirContext ctx = moeContextCreate();
  int diagnostics = 0;

  MlirModule module =
      moeParseModule(ctx, mlirStringRefCreateFromCString(kLayer),
                     mlirStringRefCreateFromCString("layer.mlir"),
                     printDiagnostic, &diagnostics);
  // CHECK: parsed: 1
  printf("parsed: %d\n", !mlirModuleIsNull(module));
  MlirOperation op = mlirModuleGetOperation(module);
  // CHECK: verified: 1
  printf("verified: %d\n", mlirLogicalResultIsSuccess(
                               moeVerify(op, printDiagnostic, &diagnostics)));

  // CHECK: expanded: 1
  printf(
      "expanded: %d\n",
      mlirLogicalResultIsSuccess(moeRunPipeline(
          op, mlirStringRefCreateFromCString("moe-expand-layer,canonicalize"),
          printDiagnostic, &diagnostics)));
  // CHECK: func.func @layer
  // CHECK: moe.gate
  // CHECK: moe.score softmax
  // CHECK: moe.route {{.*}} k = 2
  // CHECK: moe.permute
  // CHECK: moe.expert_ffn
  // CHECK: moe.combine
  // CHECK-NOT: moe.layer
  moePrintOperation(op, false, printToStdout, NULL);
  printf("\n");
  // CHECK: generic: "func.func"
  printf("generic: ");
  MlirOperation func = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
  moePrintOperation(func, true, printToStdout, NULL);
  printf("\n");

  // An anchored pipeline works as well; a bad one is a diagnostic (the parser's
  // message is part of it), at the module's location.
  // CHECK: anchored: 1
  printf("anchored: %d\n",
         mlirLogicalResultIsSuccess(moeRunPipeline(
             op, mlirStringRefCreateFromCString("builtin.module(cse)"),
             printDiagnostic, &diagnostics)));
  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: error
  // CHECK-NEXT: message: [invalid pass pipeline 'no-such-pass': {{.+}}
  // CHECK: file: [layer.mlir]
  // CHECK-NEXT: line: 0
  // CHECK-NEXT: column: 0
  // CHECK-NEXT: location: loc("layer.mlir":0:0)
  // CHECK-NEXT: notes: 0
  // CHECK-NEXT: bad pipeline: 0
  printf("bad pipeline: %d\n",
         mlirLogicalResultIsSuccess(
             moeRunPipeline(op, mlirStringRefCreateFromCString("no-such-pass"),
                            printDiagnostic, &diagnostics)));

  // An output kind outside the enum is an error, not a crash.
  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: error
  // CHECK-NEXT: message: [unknown CUDA output kind 7]
  // CHECK: translated: 0
  printf("translated: %d\n", mlirLogicalResultIsSuccess(moeTranslateToCUDA(
                                 op, (MoeCUDAOutput)7, printToStdout, NULL,
                                 printDiagnostic, &diagnostics)));
  mlirModuleDestroy(module);

  // Verifier errors come back with the message and the location apart.
  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: error
  // CHECK-NEXT: message: ['moe.route' op 'groups' (3) must divide
  // CHECK-SAME: the number of experts (8)]
  // CHECK-NEXT: file: [bad.mlir]
  // CHECK-NEXT: line: 2
  // CHECK-NEXT: column: 14
  // CHECK-NEXT: location: loc("bad.mlir":2:14)
  // CHECK-NEXT: notes: 0
  // CHECK-NEXT: bad module: 0
  MlirModule bad = parse(ctx, kBadGroups, "bad.mlir", &diagnostics);
  printf("bad module: %d\n", !mlirModuleIsNull(bad));

  // Notes come attached to their diagnostic, each with its own location.
  // A file name with colons and spaces stays whole.
  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: error
  // CHECK-NEXT: message: [redefinition of symbol named 'f']
  // CHECK-NEXT: file: [C:\dir: x/redef.mlir]
  // CHECK-NEXT: line: 4
  // CHECK-NEXT: column: 1
  // CHECK-NEXT: location: loc("C:\\dir: x/redef.mlir":4:1)
  // CHECK-NEXT: notes: 1
  // CHECK-NEXT: note 0:
  // CHECK-NEXT: severity: note
  // CHECK-NEXT: message: [see existing symbol definition here]
  // CHECK-NEXT: file: [C:\dir: x/redef.mlir]
  // CHECK-NEXT: line: 1
  // CHECK-NEXT: column: 1
  // CHECK-NEXT: location: loc("C:\\dir: x/redef.mlir":1:1)
  // CHECK-NEXT: notes: 0
  // CHECK-NEXT: redefined module: 0
  MlirModule redefined =
      parse(ctx, kRedefined, "C:\\dir: x/redef.mlir", &diagnostics);
  printf("redefined module: %d\n", !mlirModuleIsNull(redefined));

  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: error
  // CHECK-NEXT: message: [{{.+}}]
  // CHECK-NEXT: file: [trunc.mlir]
  // CHECK-NEXT: line: 1
  // CHECK-NEXT: column: {{[1-9][0-9]*}}
  // CHECK: truncated module: 0
  MlirModule truncated =
      parse(ctx, "func.func @f(%x: tensor<4x", "trunc.mlir", &diagnostics);
  printf("truncated module: %d\n", !mlirModuleIsNull(truncated));

  // Remarks of a successful pipeline come through the same callback.
  MlirModule planned = parse(ctx, kTopology, "plan.mlir", &diagnostics);
  // CHECK-NEXT: diagnostic:
  // CHECK-NEXT: severity: remark
  // CHECK-NEXT: message: [dispatch plan on 2 nodes x 4 GPUs x 8 experts:
  // CHECK-SAME: {{.+}}]
  // CHECK-NEXT: file: [plan.mlir]
  // CHECK-NEXT: line: 2
  // CHECK-NEXT: column: 14
  // CHECK-NEXT: location: loc("plan.mlir":2:14)
  // CHECK-NEXT: notes: 0
  // CHECK-NEXT: planned: 1
  printf("planned: %d\n",
         mlirLogicalResultIsSuccess(
             moeRunPipeline(mlirModuleGetOperation(planned),
                            mlirStringRefCreateFromCString("moe-plan-dispatch"),
                            printDiagnostic, &diagnostics)));
  mlirModuleDestroy(planned);

  // CHECK-NEXT: diagnostics: 6
  printf("diagnostics: %d\n", diagnostics);
  mlirContextDestroy(ctx);
  return 0;
}
