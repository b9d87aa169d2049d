func.func @param_kind(%x: index, %y: index {moegpu.param = "num_tokens"}) {
  return
}
