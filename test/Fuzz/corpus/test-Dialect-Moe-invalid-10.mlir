func.func @score_dynamic_experts(%z: tensor<4x?xf32>) {
  %s = moe.score sigmoid %z : tensor<4x?xf32> -> tensor<4x?xf32>
  return
}
