func.func @no_tokens(%x: memref<4xf32> {moegpu.param = #moegpu.param<input, "x">}) {
  return
}
