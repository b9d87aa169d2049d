func.func @route_max_devices(%z: tensor<?x128xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                             %st: tensor<?x320xf32>, %T: index) {
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <device, alpha = 1.0e-02, devices = 64> chunk = 64
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x320xf32>)
      : tensor<?x128xf32> -> tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x320xf32>
  return
}
