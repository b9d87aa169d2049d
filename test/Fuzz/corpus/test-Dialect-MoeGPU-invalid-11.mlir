func.func @gemm_family() attributes {
    g = #moegpu.gemm<wmma, tile = [128, 256, 64], stages = 4, store = tma>} {
  return
}
