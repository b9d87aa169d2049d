func.func @wgmma_stages() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 6, store = tma>} {
  return
}
