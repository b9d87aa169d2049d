func.func @plan_after() attributes {p = #moegpu.workspace<"f", alignment = 256, [<"a", "256">, <"b", "256", after = [1]>]>} {
  return
}
