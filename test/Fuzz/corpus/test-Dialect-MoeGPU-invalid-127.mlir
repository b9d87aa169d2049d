func.func @gemm_fp8_wide_columns(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x384x256xf8E4M3FN>, %ws: tensor<8x3x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x384xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 4, store = registers> epilogue none
      outs(%o : tensor<?x384xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x384x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x3x2xf32>, tensor<?x4xi32> -> tensor<?x384xbf16>
  return
}
