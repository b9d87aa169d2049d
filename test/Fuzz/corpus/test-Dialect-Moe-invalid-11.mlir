func.func @score_func_keyword(%z: tensor<4x8xf32>) {
  %s = moe.score tanh %z : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}
