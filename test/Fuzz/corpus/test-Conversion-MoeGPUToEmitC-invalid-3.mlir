func.func @stream(%s: index {moegpu.param = #moegpu.param<stream, "stream">}) {
  return
}
