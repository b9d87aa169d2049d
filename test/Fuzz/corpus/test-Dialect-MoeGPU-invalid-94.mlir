func.func @param_role() attributes {p = #moegpu.param<scratch, "x">} {
  return
}
