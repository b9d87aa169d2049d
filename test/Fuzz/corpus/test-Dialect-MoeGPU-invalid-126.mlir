func.func @fp8_tile_other_width() attributes {
  a = #moegpu.gemm<wgmma, tile = [128, 192, 128], stages = 4, store = registers>} {
  return
}
