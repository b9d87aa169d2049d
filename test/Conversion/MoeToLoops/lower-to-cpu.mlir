// The registered CPU pipeline ends in the LLVM dialect with C interfaces.
// RUN: moe-opt %s --moe-lower-to-cpu | FileCheck %s
// The same through the plugin in the stock mlir-opt.
// RUN: mlir-opt %s --load-dialect-plugin=%moe_libs/MoePlugin%shlibext --pass-pipeline="builtin.module(moe-lower-to-cpu)" | FileCheck %s

// CHECK-LABEL: llvm.func @route(
// CHECK-LABEL: llvm.func @_mlir_ciface_route(
// CHECK-NOT: bufferization.
// CHECK-NOT: memref.
// CHECK-NOT: scf.
// CHECK-NOT: moe.
func.func @route(%s: tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>) {
  %ids, %w = moe.route %s k = 6 : (tensor<?x64xf32>) -> (tensor<?x6xi32>, tensor<?x6xf32>)
  return %ids, %w : tensor<?x6xi32>, tensor<?x6xf32>
}
