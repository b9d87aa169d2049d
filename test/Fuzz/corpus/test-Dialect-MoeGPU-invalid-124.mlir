func.func @fp8_tile_stages() attributes {
  a = #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 9, store = registers>} {
  return
}
