func.func @score_shape(%z: tensor<4x8xf32>) {
  %s = moe.score sigmoid %z : tensor<4x8xf32> -> tensor<4x9xf32>
  return
}
