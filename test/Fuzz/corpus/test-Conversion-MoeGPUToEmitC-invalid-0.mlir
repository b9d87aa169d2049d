func.func @returns(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> index {
  return %n : index
}
