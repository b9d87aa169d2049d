func.func @regimes_negative() attributes {
    r = #moegpu.regimes<[-1 -> 2], 1>} {
  return
}
