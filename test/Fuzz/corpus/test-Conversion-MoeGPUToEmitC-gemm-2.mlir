module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @gathered(%x: memref<?x7168xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                      %w: memref<256x4096x7168xbf16> {moegpu.param = #moegpu.param<input, "gate_up">},
                      %token: memref<?xi32> {moegpu.param = #moegpu.param<input, "row_token", rows = affine_map<()[s0] -> (s0 * 8)>>},
                      %out: memref<?x2048xbf16> {moegpu.param = #moegpu.param<output, "h", rows = affine_map<()[s0] -> (s0 * 8)>>},
                      %tiles: memref<?x4xi32> {moegpu.param = #moegpu.param<input, "tiles", rows = affine_map<()[s0] -> (s0)>>},
                      %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64} {
    %c8 = arith.constant 8 : index
    %rows = arith.muli %n, %c8 : index
    moegpu.grouped_gemm %x, %w tiles %tiles gather %token a_rows(%n) rows(%rows) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = registers> epilogue silu_mul outs(%out : memref<?x2048xbf16>) : memref<?x7168xbf16>, memref<256x4096x7168xbf16>, memref<?x4xi32>, memref<?xi32>
    return
  }
}
