// Malformed input gives a located diagnostic and a non-zero exit, never a
// crash (`not` fails on a crash).
// RUN: split-file %s %t
// RUN: not moe-opt %t/truncated.mlir 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not moe-opt %t/truncated-attr.mlir 2>&1 | FileCheck %s --check-prefix=TRUNCATED-ATTR
// RUN: not moe-opt %t/unknown-op.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OP
// RUN: not moe-opt %t/unknown-keyword.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-KEYWORD
// RUN: not moe-opt %t/unknown-attr.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-ATTR
// RUN: not moe-opt %t/wrong-type.mlir 2>&1 | FileCheck %s --check-prefix=WRONG-TYPE
// RUN: not moe-opt %t/unranked.mlir 2>&1 | FileCheck %s --check-prefix=UNRANKED
// RUN: not moe-opt %t/operand-count.mlir 2>&1 | FileCheck %s --check-prefix=OPERAND-COUNT
// RUN: not moe-opt %t/missing-k.mlir 2>&1 | FileCheck %s --check-prefix=MISSING-K
// RUN: not moe-opt %t/generic-missing-attr.mlir 2>&1 | FileCheck %s --check-prefix=GENERIC
// RUN: not moe-opt %t/huge-int.mlir 2>&1 | FileCheck %s --check-prefix=HUGE
// RUN: not moe-opt %t/empty-loss.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY-LOSS
// RUN: not moe-opt %t/expand-invalid.mlir --moe-expand-layer 2>&1 | FileCheck %s --check-prefix=EXPAND-INVALID
// Empty input is a valid empty module.
// RUN: moe-opt %t/empty.mlir | FileCheck %s --check-prefix=EMPTY

//--- truncated.mlir
// TRUNCATED: truncated.mlir:2:73: error: expected '='
func.func @f(%s: tensor<4x8xf32>) { %ids, %w = moe.route %s k = 2 groups

//--- truncated-attr.mlir
// TRUNCATED-ATTR: truncated-attr.mlir:2:45: error: unbalanced '<' character in pretty dialect name
func.func @f() attributes {t = #moe.topology<nodes = 2, gpus_per_node =

//--- unknown-op.mlir
// UNKNOWN-OP: unknown-op.mlir:3:8: error: custom op 'moe.router' is unknown
func.func @f(%s: tensor<4x8xf32>) {
  %r = moe.router %s : tensor<4x8xf32>
  return
}

//--- unknown-keyword.mlir
// UNKNOWN-KEYWORD: unknown-keyword.mlir:3:32: error: expected ':'
func.func @f(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 grups = 2 : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- unknown-attr.mlir
// UNKNOWN-ATTR: unknown-attr.mlir:2:37: error: unknown attribute `routing` in dialect `moe`
func.func @f() attributes {t = #moe.routing<k = 2>} {
  return
}

//--- wrong-type.mlir
// WRONG-TYPE: wrong-type.mlir:3:14: error: 'moe.route' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<4x8xi32>'
func.func @f(%s: tensor<4x8xi32>) {
  %ids, %w = moe.route %s k = 2 : (tensor<4x8xi32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- unranked.mlir
// UNRANKED: unranked.mlir:3:31: error: custom op 'moe.score' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'
func.func @f(%z: tensor<*xf32>) {
  %s = moe.score sigmoid %z : tensor<*xf32> -> tensor<4x8xf32>
  return
}

//--- operand-count.mlir
// OPERAND-COUNT: operand-count.mlir:3:14: error: custom op 'moe.route' number of operands and types do not match: got 1 operands and 2 types
func.func @f(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- missing-k.mlir
// MISSING-K: missing-k.mlir:3:27: error: custom op 'moe.route' expected 'k'
func.func @f(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- generic-missing-attr.mlir
// GENERIC: generic-missing-attr.mlir:3:10: error: 'moe.route' op requires attribute 'k'
func.func @f(%s: tensor<4x8xf32>) {
  %r:2 = "moe.route"(%s) : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- huge-int.mlir
// HUGE: huge-int.mlir:3:42: error: integer constant out of range for attribute
func.func @f(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2 groups = 99999999999999999999999 : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

//--- empty-loss.mlir
// EMPTY-LOSS: empty-loss.mlir:3:35: error: custom op 'moe.balance_loss' expected valid keyword
func.func @f(%s: tensor<4x8xf32>, %ids: tensor<4x2xi32>) {
  %l = moe.balance_loss %s, %ids <> : tensor<4x8xf32>, tensor<4x2xi32> -> tensor<f32>
  return
}

//--- expand-invalid.mlir
// An invalid layer is rejected before any pass runs.
// EXPAND-INVALID: expand-invalid.mlir:4:8: error: 'moe.layer' op 'k' (9) must be in [1, 8]
func.func @f(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>, %d: tensor<8x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 9
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}

//--- empty.mlir
// EMPTY: module {
// EMPTY-NEXT: }
