func.func @mma_dual_columns(%a: tensor<?x64xbf16>, %w: tensor<8x192x64xbf16>, %t: tensor<?x4xi32>,
                            %o: tensor<?x96xbf16>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%o : tensor<?x96xbf16>) : tensor<?x64xbf16>, tensor<8x192x64xbf16>, tensor<?x4xi32> -> tensor<?x96xbf16>
  return
}
