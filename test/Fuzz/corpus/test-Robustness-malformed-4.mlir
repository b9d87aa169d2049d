func.func @f() attributes {t = #moe.routing<k = 2>} {
  return
}
