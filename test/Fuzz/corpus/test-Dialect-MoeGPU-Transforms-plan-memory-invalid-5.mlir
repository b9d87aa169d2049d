func.func @huge(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  %a = memref.alloc() : memref<9223372036854775807xf32>
  return
}
