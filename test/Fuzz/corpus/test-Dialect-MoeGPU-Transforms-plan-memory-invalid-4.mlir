func.func @shifted_size(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  %c1 = arith.constant 1 : index
  %s = arith.shli %n, %c1 : index
  %a = memref.alloc(%s) : memref<?xf32>
  return
}
