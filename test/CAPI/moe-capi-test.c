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

static void printDiagnostic(MlirStringRef text, void *userData) {
  int *count = (int *)userData;
  ++*count;
  printf("diagnostic: %.*s\n", (int)text.length, text.data);
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

  // An anchored pipeline works as well; a bad one is a diagnostic.
  // CHECK: anchored: 1
  printf("anchored: %d\n",
         mlirLogicalResultIsSuccess(moeRunPipeline(
             op, mlirStringRefCreateFromCString("builtin.module(cse)"),
             printDiagnostic, &diagnostics)));
  // CHECK: diagnostic: layer.mlir:{{[0-9]+}}:{{[0-9]+}}: error: invalid pass
  // pipeline 'no-such-pass' CHECK: bad pipeline: 0
  printf("bad pipeline: %d\n",
         mlirLogicalResultIsSuccess(
             moeRunPipeline(op, mlirStringRefCreateFromCString("no-such-pass"),
                            printDiagnostic, &diagnostics)));
  mlirModuleDestroy(module);

  // Verifier errors come back through the callback with their location.
  // CHECK: diagnostic: bad.mlir:2:14: error: 'moe.route' op 'groups' (3) must
  // divide the number of experts (8) CHECK: bad module: 0
  MlirModule bad =
      moeParseModule(ctx, mlirStringRefCreateFromCString(kBadGroups),
                     mlirStringRefCreateFromCString("bad.mlir"),
                     printDiagnostic, &diagnostics);
  printf("bad module: %d\n", !mlirModuleIsNull(bad));

  // CHECK: diagnostic: trunc.mlir:1:{{[0-9]+}}: error: {{.+}}
  // CHECK: truncated module: 0
  MlirModule truncated = moeParseModule(
      ctx, mlirStringRefCreateFromCString("func.func @f(%x: tensor<4x"),
      mlirStringRefCreateFromCString("trunc.mlir"), printDiagnostic,
      &diagnostics);
  printf("truncated module: %d\n", !mlirModuleIsNull(truncated));

  // CHECK: diagnostics: 3
  printf("diagnostics: %d\n", diagnostics);
  mlirContextDestroy(ctx);
  return 0;
}
