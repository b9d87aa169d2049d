func.func @loss_grad_max_experts(%z: tensor<?x1024xf32>, %g: tensor<?x1024xf32>, %d: tensor<?x1024xf32>, %T: index) {
  %0 = moegpu.loss_grad sigmoid %z, %g <sequence, alpha = 1.0e-04> grid = persistent tokens(%T)
      outs(%d : tensor<?x1024xf32>) : tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x1024xf32>
  return
}
