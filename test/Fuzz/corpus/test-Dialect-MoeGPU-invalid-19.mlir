func.func @wgmma_tile_overflow() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 3074457345618258603, 64], stages = 4, store = tma>} {
  return
}
