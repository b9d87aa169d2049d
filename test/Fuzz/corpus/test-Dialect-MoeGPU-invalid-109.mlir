func.func @zero_two_inits(%a: tensor<4xf32>, %b: tensor<4xf32>, %r: index) {
  %0:2 = moegpu.zero rows(%r) outs(%a, %b : tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>, tensor<4xf32>
  return
}
