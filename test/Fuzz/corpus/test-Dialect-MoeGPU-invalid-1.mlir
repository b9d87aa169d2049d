func.func @target_on_func() attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  return
}
