func.func @gemm_gather_pair(%a: tensor<?x64xbf16>, %w: tensor<8x128x64xbf16>, %t: tensor<?x4xi32>,
                            %rt: tensor<?xi32>, %o: tensor<?x128xbf16>, %R: index) {
  %0 = "moegpu.grouped_gemm"(%a, %w, %t, %rt, %R, %o) <{
      config = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers>,
      epilogue = #moegpu.gemm_epilogue<none>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 1, 1>}>
      : (tensor<?x64xbf16>, tensor<8x128x64xbf16>, tensor<?x4xi32>, tensor<?xi32>, index, tensor<?x128xbf16>)
      -> tensor<?x128xbf16>
  return
}
