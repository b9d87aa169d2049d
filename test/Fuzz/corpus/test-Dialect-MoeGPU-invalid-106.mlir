func.func @copy_rows(%a: tensor<4x2xf32>, %b: tensor<4x2xf32>) {
  %c3 = arith.constant 3 : index
  %0 = moegpu.copy %a rows(%c3) outs(%b : tensor<4x2xf32>) : tensor<4x2xf32> -> tensor<4x2xf32>
  return
}
