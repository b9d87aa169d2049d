func.func @plan_function() attributes {p = #moegpu.workspace<"", alignment = 256>} {
  return
}
