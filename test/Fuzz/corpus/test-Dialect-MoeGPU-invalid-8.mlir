func.func @target_unknown() attributes {
    t = #moegpu.target<"sm_70">} {
  return
}
