func.func @loss_devices(%st: tensor<?x19xf32>, %l: tensor<f32>, %g: tensor<?x8xf32>, %s: tensor<?xf64>, %T: index) {
  %0:3 = moegpu.loss_from_stats %st <device, alpha = 1.0e-02, devices = 3> k = 2 chunk = 64 tokens(%T)
      outs(%l, %g, %s : tensor<f32>, tensor<?x8xf32>, tensor<?xf64>)
      : tensor<?x19xf32> -> tensor<f32>, tensor<?x8xf32>, tensor<?xf64>
  return
}
