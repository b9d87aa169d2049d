func.func @gemm_fp8_scale_pair(%a: tensor<?x256xf8E4M3FN>, %as: tensor<?x2xf32>, %w: tensor<8x128x256xf8E4M3FN>, %t: tensor<?x4xi32>, %o: tensor<?x128xbf16>, %R: index) {
  %0 = "moegpu.grouped_gemm"(%a, %w, %t, %as, %R, %o) <{
      config = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers>,
      epilogue = #moegpu.gemm_epilogue<none>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1, 0, 1, 1>}>
      : (tensor<?x256xf8E4M3FN>, tensor<8x128x256xf8E4M3FN>, tensor<?x4xi32>, tensor<?x2xf32>, index, tensor<?x128xbf16>)
      -> tensor<?x128xbf16>
  return
}
