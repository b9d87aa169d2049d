// Spec test vectors TV1-TV4: DeepSeek-V3 routing (8 experts in 2 groups of 4,
// keep 1 group, top-2, group score = top-2 sum, normalised, x2.5).
// RUN: moe-opt %s --moe-lower-to-cpu | %run_cpu | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @route(%s: tensor<1x8xf32>, %b: tensor<8xf32>) {
  %ids, %w = moe.route %s bias %b k = 2 groups = 2 group_topk = 1
      group_score = topk_sum<2> normalize scale = 2.5
      : (tensor<1x8xf32>, tensor<8xf32>) -> (tensor<1x2xi32>, tensor<1x2xf32>)
  %mi = bufferization.to_buffer %ids : tensor<1x2xi32> to memref<1x2xi32>
  %mw = bufferization.to_buffer %w : tensor<1x2xf32> to memref<1x2xf32>
  %ui = memref.cast %mi : memref<1x2xi32> to memref<*xi32>
  %uw = memref.cast %mw : memref<1x2xf32> to memref<*xf32>
  call @printMemrefI32(%ui) : (memref<*xi32>) -> ()
  call @printMemrefF32(%uw) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %s = arith.constant dense<[[0.9, 0.1, 0.2, 0.3, 0.6, 0.7, 0.5, 0.4]]> : tensor<1x8xf32>

  // TV1: no bias. G0 = 1.2 < G1 = 1.3: the best expert (0) is cut by the
  // group limit; {5, 4} with 0.7/1.3*2.5 and 0.6/1.3*2.5.
  // CHECK: [5,   4]
  // CHECK: [1.34615,   1.15385]
  %b1 = arith.constant dense<0.0> : tensor<8xf32>
  call @route(%s, %b1) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  // TV2: a bias of 0.2 on expert 0 flips the group: {0, 3}, gates from raw s.
  // CHECK: [0,   3]
  // CHECK: [1.875,   0.625]
  %b2 = arith.constant dense<[0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]> : tensor<8xf32>
  call @route(%s, %b2) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  // TV3: the bias reorders inside the group; weights still use raw s.
  // CHECK: [5,   6]
  // CHECK: [1.45833,   1.04167]
  %b3 = arith.constant dense<[0.0, 0.0, 0.0, 0.0, -0.2, 0.0, 0.15, 0.0]> : tensor<8xf32>
  call @route(%s, %b3) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  // TV4: -inf masking. G0 is chosen; with 0.0 filling the second pick would
  // leak into G1 (masked 0.0 > biased -0.1). Ours stays in G0: {0, 1}.
  // CHECK: [0,   1]
  // CHECK: [2.25,   0.25]
  %b4 = arith.constant dense<[0.0, -0.2, -0.4, -0.6, -0.3, -0.5, -0.4, -0.3]> : tensor<8xf32>
  call @route(%s, %b4) : (tensor<1x8xf32>, tensor<8xf32>) -> ()
  return
}
