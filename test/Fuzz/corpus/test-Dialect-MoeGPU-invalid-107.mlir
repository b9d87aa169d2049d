func.func @zero_dynamic_columns(%b: tensor<4x?xf32>, %r: index) {
  %0 = moegpu.zero rows(%r) outs(%b : tensor<4x?xf32>) -> tensor<4x?xf32>
  return
}
