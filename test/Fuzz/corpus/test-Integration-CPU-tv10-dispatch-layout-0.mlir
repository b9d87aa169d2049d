func.func private @printMemrefI32(memref<*xi32>)

func.func @main() {
  %ids = arith.constant dense<[[0, 1, 17, -1], [2, 30, 31, 5], [-1, -1, -1, -1]]> : tensor<3x4xi32>
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<16xi32>, tensor<2xi32>, tensor<3x16xi1>
  %mpe = bufferization.to_buffer %pe : tensor<32xi32> to memref<32xi32>
  %upe = memref.cast %mpe : memref<32xi32> to memref<*xi32>
  call @printMemrefI32(%upe) : (memref<*xi32>) -> ()
  %mpr = bufferization.to_buffer %pr : tensor<16xi32> to memref<16xi32>
  %upr = memref.cast %mpr : memref<16xi32> to memref<*xi32>
  call @printMemrefI32(%upr) : (memref<*xi32>) -> ()
  %mpn = bufferization.to_buffer %pn : tensor<2xi32> to memref<2xi32>
  %upn = memref.cast %mpn : memref<2xi32> to memref<*xi32>
  call @printMemrefI32(%upn) : (memref<*xi32>) -> ()
  %mb = bufferization.to_buffer %in : tensor<3x16xi1> to memref<3x16xi1>
  %min = memref.alloc() : memref<3x16xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c16 = arith.constant 16 : index
  scf.for %t = %c0 to %c3 step %c1 {
    scf.for %r = %c0 to %c16 step %c1 {
      %bit = memref.load %mb[%t, %r] : memref<3x16xi1>
      %v = arith.extui %bit : i1 to i32
      memref.store %v, %min[%t, %r] : memref<3x16xi32>
    }
  }
  %uin = memref.cast %min : memref<3x16xi32> to memref<*xi32>
  call @printMemrefI32(%uin) : (memref<*xi32>) -> ()
  return
}
