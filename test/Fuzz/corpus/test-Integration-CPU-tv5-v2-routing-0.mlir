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
  %z = arith.constant dense<[[-2.99573227, -1.20397280, -2.99573227, -1.71479843,
                              -1.60943791, -3.91202301, -2.30258509, -2.30258509]]> : tensor<1x8xf32>
  %p = moe.score softmax %z : tensor<1x8xf32> -> tensor<1x8xf32>

  %ids, %w = moe.route %p k = 3 groups = 4 group_topk = 2 scale = 16.0
      : (tensor<1x8xf32>) -> (tensor<1x3xi32>, tensor<1x3xf32>)
  call @print(%ids, %w) : (tensor<1x3xi32>, tensor<1x3xf32>) -> ()

  %ids2, %w2 = moe.route %p k = 3
      : (tensor<1x8xf32>) -> (tensor<1x3xi32>, tensor<1x3xf32>)
  call @print(%ids2, %w2) : (tensor<1x3xi32>, tensor<1x3xf32>) -> ()
  return
}
