// Spec test vector TV6: DeepSeek-V3 sequence-wise balance loss, T = 2, E = 4,
// K = 2, counts from the plain top-2 (the literal formula), and its gradient
// with respect to the logits (sigmoid scores, f constant).
// RUN: moe-opt %s --moe-lower-to-cpu | %run_cpu | FileCheck %s

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %s = arith.constant dense<[[0.8, 0.6, 0.4, 0.2], [0.2, 0.6, 0.8, 0.4]]> : tensor<2x4xf32>
  // The routed ids do not enter a topk-counted loss; any ids of width K do.
  %ids = arith.constant dense<[[0, 1], [2, 1]]> : tensor<2x2xi32>

  // counts [1, 2, 1, 0], f = [1, 2, 1, 0], P = [0.25, 0.30, 0.30, 0.15]:
  // sum f P = 1.15, times alpha = 1e-4.
  // CHECK: [0.000115]
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  %ml = bufferization.to_buffer %l : tensor<f32> to memref<f32>
  %ul = memref.cast %ml : memref<f32> to memref<*xf32>
  call @printMemrefF32(%ul) : (memref<*xf32>) -> ()

  // Per unit alpha: t1 -> [-0.008, 0.048, -0.012, -0.048],
  //                 t2 -> [-0.004, 0.054, -0.004, -0.066].
  // CHECK: [-0.008,   0.048,   -0.012,   -0.048],
  // CHECK: [-0.004,   0.054,   -0.004,   -0.066]
  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0, counts = topk>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<2x4xf32>
  %mg = bufferization.to_buffer %g : tensor<2x4xf32> to memref<2x4xf32>
  %ug = memref.cast %mg : memref<2x4xf32> to memref<*xf32>
  call @printMemrefF32(%ug) : (memref<*xf32>) -> ()

  // The same two tokens as two sequences of one token: each sequence has
  // its own f and P; the loss is their mean.
  // t1: f = [2, 2, 0, 0], P = [0.4, 0.3, 0.2, 0.1] -> 1.4;
  // t2: f = [0, 2, 2, 0], P = [0.1, 0.3, 0.4, 0.2] -> 1.4.
  // CHECK: [1.4]
  %l2 = moe.balance_loss %s, %ids <sequence, alpha = 1.0, counts = topk, seq_len = 1>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  %ml2 = bufferization.to_buffer %l2 : tensor<f32> to memref<f32>
  %ul2 = memref.cast %ml2 : memref<f32> to memref<*xf32>
  call @printMemrefF32(%ul2) : (memref<*xf32>) -> ()
  return
}
