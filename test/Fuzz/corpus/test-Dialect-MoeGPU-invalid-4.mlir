func.func @workspace_size_of_kind() attributes {moegpu.workspace_size_of = "launcher"} {
  return
}
