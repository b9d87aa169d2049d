func.func @f(%z: tensor<*xf32>) {
  %s = moe.score sigmoid %z : tensor<*xf32> -> tensor<4x8xf32>
  return
}
