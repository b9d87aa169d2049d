func.func @split_k_otherwise() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                     split_k = #moegpu.regimes<[128 -> 2], 0>>} {
  return
}
