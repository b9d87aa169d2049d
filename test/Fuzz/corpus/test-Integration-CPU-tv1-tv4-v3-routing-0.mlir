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

  %b1 = arith.constant dense<0.0> : tensor<8xf32>
  call @route(%s, %b1) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  %b2 = arith.constant dense<[0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]> : tensor<8xf32>
  call @route(%s, %b2) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  %b3 = arith.constant dense<[0.0, 0.0, 0.0, 0.0, -0.2, 0.0, 0.15, 0.0]> : tensor<8xf32>
  call @route(%s, %b3) : (tensor<1x8xf32>, tensor<8xf32>) -> ()

  %b4 = arith.constant dense<[0.0, -0.2, -0.4, -0.6, -0.3, -0.5, -0.4, -0.3]> : tensor<8xf32>
  call @route(%s, %b4) : (tensor<1x8xf32>, tensor<8xf32>) -> ()
  return
}
