func.func @bad_size(%a: index, %b: index) -> index attributes {moegpu.workspace_size_of = @launcher} {
  return %a : index
}
func.func private @launcher()
