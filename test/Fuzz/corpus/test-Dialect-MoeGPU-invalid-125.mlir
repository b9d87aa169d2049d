func.func @fp8_tile_store() attributes {
  a = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 4, store = tma>} {
  return
}
