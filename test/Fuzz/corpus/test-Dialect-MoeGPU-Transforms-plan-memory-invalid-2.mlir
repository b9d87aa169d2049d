func.func @nested(%c: i1, %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  scf.if %c {
    %a = memref.alloc() : memref<4xf32>
  }
  return
}
