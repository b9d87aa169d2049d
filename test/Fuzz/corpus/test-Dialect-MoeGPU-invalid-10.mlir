func.func @regimes_order() attributes {
    r = #moegpu.regimes<[128 -> 8, 256 -> 4, 256 -> 2], 1>} {
  return
}
