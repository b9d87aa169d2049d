func.func @init_count(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>) {
  %0:2 = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%o, %o : tensor<8xf32>, tensor<8xf32>)
      : tensor<8xf32>, tensor<8xi32> -> tensor<8xf32>, tensor<8xf32>
  return
}
