func.func @returns_alloc(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
