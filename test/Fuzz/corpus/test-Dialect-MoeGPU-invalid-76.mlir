func.func @gemm_weight_static(%a: tensor<?x64xbf16>, %w: tensor<?x128x64xbf16>, %t: tensor<?x4xi32>,
                              %o: tensor<?x128xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<?x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}
