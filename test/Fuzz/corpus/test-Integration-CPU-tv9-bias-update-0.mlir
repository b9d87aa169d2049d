func.func private @printMemrefF32(memref<*xf32>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @main() {
  %b = arith.constant dense<0.0> : tensor<4xf32>
  %c = arith.constant dense<[10, 2, 6, 6]> : tensor<4xi32>
  %b2 = moe.bias_update %b, %c rate = 0.001 : tensor<4xf32>, tensor<4xi32>
  %m = bufferization.to_buffer %b2 : tensor<4xf32> to memref<4xf32>
  %u = memref.cast %m : memref<4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()

  %ids = arith.constant dense<[[0, 1], [3, 0], [-1, -1]]> : tensor<3x2xi32>
  %n = moe.expert_counts %ids : tensor<3x2xi32> -> tensor<4xi32>
  %mn = bufferization.to_buffer %n : tensor<4xi32> to memref<4xi32>
  %un = memref.cast %mn : memref<4xi32> to memref<*xi32>
  call @printMemrefI32(%un) : (memref<*xi32>) -> ()
  return
}
