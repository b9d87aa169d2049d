func.func @wgmma_partial_type(%a: tensor<?x64xbf16>, %w: tensor<256x64xbf16>, %t: tensor<?x4xi32>,
                              %o: tensor<?x256xf32>, %p: tensor<?x256xbf16>, %R: index) {
  %0:2 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers,
                   split_k = #moegpu.regimes<[128 -> 4], 1>> epilogue none
      outs(%o, %p : tensor<?x256xf32>, tensor<?x256xbf16>)
      : tensor<?x64xbf16>, tensor<256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>, tensor<?x256xbf16>
  return
}
