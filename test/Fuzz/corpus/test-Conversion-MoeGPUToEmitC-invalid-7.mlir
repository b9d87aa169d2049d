func.func @unbufferized(%offsets: memref<9xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                        %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
    attributes {moegpu.max_tokens = 100 : i64} {
  %off = bufferization.to_tensor %offsets : memref<9xi32> to tensor<9xi32>
  %e = tensor.empty() : tensor<2x4xi32>
  %t = moegpu.tile_map offsets %off experts = 8 row_tile = 128 chunk = 8 rows(%n) outs(%e : tensor<2x4xi32>) : tensor<9xi32> -> tensor<2x4xi32>
  return
}
