func.func @gemm_fp8_needs_scales(%a: tensor<?x256xf8E4M3FN>, %w: tensor<8x128x256xf8E4M3FN>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x128x256xf8E4M3FN>, tensor<?x4xi32> -> tensor<?x128xbf16>
  return
}
