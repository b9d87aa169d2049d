func.func @gemm_dual_f32(%a: tensor<?x64xbf16>, %w: tensor<8x256x64xbf16>, %t: tensor<?x4xi32>,
                         %o: tensor<?x128xf32>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%o : tensor<?x128xf32>) : tensor<?x64xbf16>, tensor<8x256x64xbf16>, tensor<?x4xi32> -> tensor<?x128xf32>
  return
}
