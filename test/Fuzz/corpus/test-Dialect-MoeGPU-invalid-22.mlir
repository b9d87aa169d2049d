func.func @split_k_value() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                     split_k = #moegpu.regimes<[128 -> 3], 1>>} {
  return
}
