func.func @wgmma_tile() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 128, 64], stages = 4, store = tma>} {
  return
}
