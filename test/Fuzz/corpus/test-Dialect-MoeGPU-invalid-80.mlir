func.func @gemm_gather_tile(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                            %rt: tensor<?xi32>, %o: tensor<?x128xbf16>, %T: index, %R: index) {
  %0 = moegpu.grouped_gemm %a, %w tiles %t gather %rt a_rows(%T) rows(%R)
      #moegpu.gemm<wgmma, tile = [256, 128, 64], stages = 4, store = tma> epilogue none
      outs(%o : tensor<?x128xbf16>) : tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32>, tensor<?xi32>
      -> tensor<?x128xbf16>
  return
}
