func.func @wgmma_split_k_experts(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                                 %o: tensor<?x256xf32>, %p: tensor<?x256xf32>, %R: index) {
  %0:2 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers,
                   split_k = #moegpu.regimes<[128 -> 4], 1>> epilogue none
      outs(%o, %p : tensor<?x256xf32>, tensor<?x256xf32>)
      : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>, tensor<?x256xf32>
  return
}
