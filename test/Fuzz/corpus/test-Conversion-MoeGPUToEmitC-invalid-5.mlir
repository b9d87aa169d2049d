func.func @unbounded(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  return
}
