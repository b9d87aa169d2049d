func.func @unknown_arg_attr(%x: index {moegpu.role = "input"}) {
  return
}
