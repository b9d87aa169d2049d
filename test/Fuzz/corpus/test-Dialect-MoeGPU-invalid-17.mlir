func.func @mma_split_k() attributes {
    g = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers,
                     split_k = #moegpu.regimes<[128 -> 2], 1>>} {
  return
}
