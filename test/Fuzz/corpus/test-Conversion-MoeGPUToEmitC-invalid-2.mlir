func.func @tensors(%x: tensor<4xf32> {moegpu.param = #moegpu.param<input, "x">},
                   %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  return
}
