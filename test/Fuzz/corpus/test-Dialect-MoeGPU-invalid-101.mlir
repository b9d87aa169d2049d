func.func @gather_rows(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x4xi32>, %tok: tensor<5xi32>, %o: tensor<7x128xbf16>, %T: index, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t gather %tok a_rows(%T) rows(%R) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul outs(%o : tensor<7x128xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x4xi32>, tensor<5xi32> -> tensor<7x128xbf16>
  return
}
