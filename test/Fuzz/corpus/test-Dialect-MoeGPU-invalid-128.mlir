module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @gemm_fp8_wide_shared_memory(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x256x256xf8E4M3FN>, %ws: tensor<8x2x2xf32>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
    %0 = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %t rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 5, store = registers> epilogue none
        outs(%o : tensor<?x256xbf16>) : tensor<?x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x2x2xf32>, tensor<?x4xi32> -> tensor<?x256xbf16>
    return
  }
}
