func.func @zero_scalar_rows(%b: tensor<f32>) {
  %c2 = arith.constant 2 : index
  %0 = moegpu.zero rows(%c2) outs(%b : tensor<f32>) -> tensor<f32>
  return
}
