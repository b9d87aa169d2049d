func.func @f(%s: tensor<4x8xf32>) {
  %r = moe.router %s : tensor<4x8xf32>
  return
}
