func.func @wgmma_columns(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                         %o: tensor<?x128xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}
