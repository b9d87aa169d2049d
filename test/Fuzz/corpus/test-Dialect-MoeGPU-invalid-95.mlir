func.func @param_key() attributes {p = #moegpu.param<input, "x", shape = memref<4xf32>>} {
  return
}
