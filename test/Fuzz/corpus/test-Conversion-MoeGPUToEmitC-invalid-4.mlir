func.func @unplanned(%ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                     %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
    attributes {moegpu.max_tokens = 100 : i64} {
  return
}
