func.func @loss_chunk(%st: tensor<?x16xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  %0:3 = moegpu.loss_from_stats %st <sequence, alpha = 1.0e-04> k = 2 chunk = 0 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x16xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}
