func.func @bias_dynamic(%b: tensor<?xf32>, %c: tensor<?xi32>) {
  %b2 = moe.bias_update %b, %c rate = 1.0e-3 : tensor<?xf32>, tensor<?xi32>
  return
}
