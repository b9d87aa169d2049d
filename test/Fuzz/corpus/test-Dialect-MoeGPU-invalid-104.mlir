func.func @copy_element_type(%a: tensor<4xf32>, %b: tensor<4xi32>, %r: index) {
  %0 = moegpu.copy %a rows(%r) outs(%b : tensor<4xi32>) : tensor<4xf32> -> tensor<4xi32>
  return
}
