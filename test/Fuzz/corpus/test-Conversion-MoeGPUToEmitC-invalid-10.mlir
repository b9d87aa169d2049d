func.func @l(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) attributes {moegpu.static_tokens = 4 : i64} {
  return
}
func.func private @l_workspace_size(index) -> index attributes {moegpu.workspace_size_of = @l}
