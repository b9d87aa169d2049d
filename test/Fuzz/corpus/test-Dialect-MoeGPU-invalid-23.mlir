func.func @param_name() attributes {
    p = #moegpu.param<input, "2nd">} {
  return
}
