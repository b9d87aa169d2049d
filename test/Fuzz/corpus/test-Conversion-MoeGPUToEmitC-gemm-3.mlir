module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @tail(%off: memref<257xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                  %out: memref<?x7168xbf16> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>>},
                  %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64} {
    moegpu.zero_tail offsets %off rows(%n) grid = exact outs(%out : memref<?x7168xbf16>) : memref<257xi32>
    return
  }
}
