func.func @workspace_kind() attributes {moegpu.workspace = 4096 : i64} {
  return
}
