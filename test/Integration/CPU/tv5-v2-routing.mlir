// Spec test vector TV5: DeepSeek-V2 group_limited_greedy (softmax, 4 groups
// of 2, keep 2, group max, top-3, no normalisation, x16) and V2-Lite greedy
// (no groups, x1). Probabilities come from softmax(ln p).
// RUN: moe-opt %s --moe-lower-to-cpu | %run_cpu | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%ids: tensor<1x3xi32>, %w: tensor<1x3xf32>) {
  %mi = bufferization.to_buffer %ids : tensor<1x3xi32> to memref<1x3xi32>
  %mw = bufferization.to_buffer %w : tensor<1x3xf32> to memref<1x3xf32>
  %ui = memref.cast %mi : memref<1x3xi32> to memref<*xi32>
  %uw = memref.cast %mw : memref<1x3xf32> to memref<*xf32>
  call @printMemrefI32(%ui) : (memref<*xi32>) -> ()
  call @printMemrefF32(%uw) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // ln p for p = [0.05, 0.30, 0.05, 0.18, 0.20, 0.02, 0.10, 0.10]
  %z = arith.constant dense<[[-2.99573227, -1.20397280, -2.99573227, -1.71479843,
                              -1.60943791, -3.91202301, -2.30258509, -2.30258509]]> : tensor<1x8xf32>
  %p = moe.score softmax %z : tensor<1x8xf32> -> tensor<1x8xf32>

  // Group max = [0.30, 0.18, 0.20, 0.10] keeps groups {0, 2}; candidates
  // {0: 0.05, 1: 0.30, 4: 0.20, 5: 0.02} give {1, 4, 0}, weights x16.
  // CHECK: [1,   4,   0]
  // CHECK: [4.8,   3.2,   0.8]
  %ids, %w = moe.route %p k = 3 groups = 4 group_topk = 2 scale = 16.0
      : (tensor<1x8xf32>) -> (tensor<1x3xi32>, tensor<1x3xf32>)
  call @print(%ids, %w) : (tensor<1x3xi32>, tensor<1x3xf32>) -> ()

  // Ungrouped (V2-Lite, x1): {1, 4, 3}.
  // CHECK: [1,   4,   3]
  // CHECK: [0.3,   0.2,   0.18]
  %ids2, %w2 = moe.route %p k = 3
      : (tensor<1x8xf32>) -> (tensor<1x3xi32>, tensor<1x3xf32>)
  call @print(%ids2, %w2) : (tensor<1x3xi32>, tensor<1x3xf32>) -> ()
  return
}
