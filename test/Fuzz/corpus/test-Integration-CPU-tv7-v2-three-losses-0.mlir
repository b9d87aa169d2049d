func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @print(%l: tensor<f32>) {
  %m = bufferization.to_buffer %l : tensor<f32> to memref<f32>
  %u = memref.cast %m : memref<f32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %p = arith.constant dense<[[0.4, 0.3, 0.2, 0.1], [0.35, 0.3, 0.2, 0.15]]> : tensor<2x4xf32>
  %ids, %w = moe.route %p k = 2 groups = 2 group_topk = 1
      : (tensor<2x4xf32>) -> (tensor<2x2xi32>, tensor<2x2xf32>)
  %mi = bufferization.to_buffer %ids : tensor<2x2xi32> to memref<2x2xi32>
  %ui = memref.cast %mi : memref<2x2xi32> to memref<*xi32>
  call @printMemrefI32(%ui) : (memref<*xi32>) -> ()

  %l1 = moe.balance_loss %p, %ids <expert, alpha = 0.003>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  call @print(%l1) : (tensor<f32>) -> ()
  %l2 = moe.balance_loss %p, %ids <device, alpha = 0.05, devices = 2>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  call @print(%l2) : (tensor<f32>) -> ()
  %l3 = moe.balance_loss %p, %ids <comm, alpha = 0.02, devices = 2, device_limit = 1>
      : tensor<2x4xf32>, tensor<2x2xi32> -> tensor<f32>
  call @print(%l3) : (tensor<f32>) -> ()
  return
}
