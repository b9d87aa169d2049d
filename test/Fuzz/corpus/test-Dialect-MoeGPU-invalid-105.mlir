func.func @copy_shape(%a: tensor<?x4xf32>, %b: tensor<?x8xf32>, %r: index) {
  %0 = moegpu.copy %a rows(%r) outs(%b : tensor<?x8xf32>) : tensor<?x4xf32> -> tensor<?x8xf32>
  return
}
