func.func @plan_alignment() attributes {p = #moegpu.workspace<"f", alignment = 96>} {
  return
}
