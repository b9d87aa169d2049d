func.func @gemm_tile_width(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x3xi32>, %o: tensor<?x256xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none outs(%o : tensor<?x256xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x3xi32> -> tensor<?x256xbf16>
  return
}
