func.func @mma_stages() attributes {
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 4, store = registers>} {
  return
}
