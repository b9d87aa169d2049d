func.func @static_tokens_negative() attributes {moegpu.static_tokens = -1 : i64} {
  return
}
