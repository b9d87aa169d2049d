func.func @loss_grad_devices(%z: tensor<?x8xf32>, %g: tensor<?x8xf32>, %d: tensor<?x8xf32>, %T: index) {
  %0 = moegpu.loss_grad sigmoid %z, %g <device, alpha = 1.0e-02, devices = 3> grid = persistent tokens(%T)
      outs(%d : tensor<?x8xf32>) : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return
}
