func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %s = arith.constant dense<[[0.8, 0.6, 0.4, 0.2], [0.2, 0.6, 0.8, 0.4]]> : tensor<2x4xf32>
  %ids = arith.constant dense<[[0, 1], [2, 1]]> : tensor<2x2xi32>

  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0e-4, counts = topk>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  %ml = bufferization.to_buffer %l : tensor<f32> to memref<f32>
  %ul = memref.cast %ml : memref<f32> to memref<*xf32>
  call @printMemrefF32(%ul) : (memref<*xf32>) -> ()

  %g = moe.balance_loss_grad sigmoid %s, %ids <sequence, alpha = 1.0, counts = topk>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<2x4xf32>
  %mg = bufferization.to_buffer %g : tensor<2x4xf32> to memref<2x4xf32>
  %ug = memref.cast %mg : memref<2x4xf32> to memref<*xf32>
  call @printMemrefF32(%ug) : (memref<*xf32>) -> ()

  %l2 = moe.balance_loss %s, %ids <sequence, alpha = 1.0, counts = topk, seq_len = 1>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  %ml2 = bufferization.to_buffer %l2 : tensor<f32> to memref<f32>
  %ul2 = memref.cast %ml2 : memref<f32> to memref<*xf32>
  call @printMemrefF32(%ul2) : (memref<*xf32>) -> ()
  return
}
