module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @wgmma_shared_memory(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                                 %o: tensor<?x256xbf16>, %R: index) {
    %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
        #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 5, store = tma> epilogue none
        outs(%o : tensor<?x256xbf16>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
    return
  }
}
