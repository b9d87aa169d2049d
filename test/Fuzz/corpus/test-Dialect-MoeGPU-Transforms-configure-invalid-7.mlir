func.func @negative_zeros() -> tensor<2xf32> {
  %c = arith.constant dense<-0.0> : tensor<2xf32>
  return %c : tensor<2xf32>
}
