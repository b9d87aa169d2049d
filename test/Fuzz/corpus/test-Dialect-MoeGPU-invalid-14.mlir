func.func @mma_tile() attributes {
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 64], stages = 3, store = registers>} {
  return
}
