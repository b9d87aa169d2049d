func.func @gemm_weight_type(%a: tensor<?x64xbf16>, %w: tensor<128x64xf32>, %t: tensor<?x4xi32>,
                            %o: tensor<?x128xf32>, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%o : tensor<?x128xf32>) : tensor<?x64xbf16>, tensor<128x64xf32>, tensor<?x4xi32> -> tensor<?x128xf32>
  return
}
