func.func @mma_store() attributes {
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = tma>} {
  return
}
