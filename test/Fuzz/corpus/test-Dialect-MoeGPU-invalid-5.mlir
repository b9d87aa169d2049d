func.func @unknown_attr() attributes {moegpu.tokens = 4 : i64} {
  return
}
