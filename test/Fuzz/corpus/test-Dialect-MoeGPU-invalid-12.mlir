func.func @gemm_store() attributes {
    g = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = shared>} {
  return
}
