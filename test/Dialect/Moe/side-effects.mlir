// RUN: moe-opt %s --cse --canonicalize | FileCheck %s
// Every moe op is Pure: unused results disappear, identical ops are merged.

// CHECK-LABEL: func.func @dead_and_duplicate
// CHECK-COUNT-1: moe.score
// CHECK-NOT: moe.route
// CHECK-NOT: moe.score
func.func @dead_and_duplicate(%z: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s1 = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x8xf32>
  %s2 = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x8xf32>
  %ids, %w = moe.route %s1 k = 2 : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %s1, %s2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// A whole expanded layer whose output is unused leaves nothing behind.
// CHECK-LABEL: func.func @dead_layer
// CHECK-NEXT: return
func.func @dead_layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                      %d: tensor<8x16x6xf32>) {
  %y = moe.layer %x router %r experts %gu, %d score sigmoid k = 2
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return
}
