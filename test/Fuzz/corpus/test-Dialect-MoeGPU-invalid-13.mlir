func.func @gemm_tile_sizes() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 256], stages = 4, store = tma>} {
  return
}
