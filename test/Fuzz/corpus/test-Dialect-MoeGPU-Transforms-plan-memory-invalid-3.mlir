func.func @foreign_size(%m: memref<?xf32> {moegpu.param = #moegpu.param<input, "m", rows = affine_map<()[s0] -> (s0)>>},
                        %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  %c0 = arith.constant 0 : index
  %d = memref.dim %m, %c0 : memref<?xf32>
  %a = memref.alloc(%d) : memref<?xf32>
  return
}
