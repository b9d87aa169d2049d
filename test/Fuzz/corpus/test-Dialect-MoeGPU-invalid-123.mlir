func.func @gemm_bf16_with_fp8_tile(%a: tensor<?x256xbf16>, %w: tensor<8x256x256xbf16>, %t: tensor<?x4xi32>, %o: tensor<?x256xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
      outs(%o : tensor<?x256xbf16>) : tensor<?x256xbf16>, tensor<8x256x256xbf16>, tensor<?x4xi32> -> tensor<?x256xbf16>
  return
}
