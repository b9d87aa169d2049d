func.func private @printMemrefI32(memref<*xi32>)

func.func @print(%ids: tensor<1x1xi32>) {
  %m = bufferization.to_buffer %ids : tensor<1x1xi32> to memref<1x1xi32>
  %u = memref.cast %m : memref<1x1xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  %s = arith.constant dense<[[0.30, 0.01, 0.20, 0.19]]> : tensor<1x4xf32>
  %a, %wa = moe.route %s k = 1 groups = 1 group_topk = 1 group_score = max
      : (tensor<1x4xf32>) -> (tensor<1x1xi32>, tensor<1x1xf32>)
  call @print(%a) : (tensor<1x1xi32>) -> ()
  %b, %wb = moe.route %s k = 1 groups = 2 group_topk = 1 group_score = topk_sum<2>
      : (tensor<1x4xf32>) -> (tensor<1x1xi32>, tensor<1x1xf32>)
  call @print(%b) : (tensor<1x1xi32>) -> ()

  %t = arith.constant dense<[[0.5, 0.5, 0.5, 0.5]]> : tensor<1x4xf32>
  %c, %wc = moe.route %t k = 1 groups = 2 group_topk = 1 group_score = topk_sum<2>
      : (tensor<1x4xf32>) -> (tensor<1x1xi32>, tensor<1x1xf32>)
  call @print(%c) : (tensor<1x1xi32>) -> ()
  return
}
