func.func @param_rows() attributes {
    p = #moegpu.param<input, "x", rows = affine_map<(d0) -> (d0)>>} {
  return
}
