func.func @route_chunk(%z: tensor<?x8xf32>, %ids: tensor<?x2xi32>, %w: tensor<?x2xf32>,
                       %st: tensor<?x16xf32>, %T: index) {
  %0:3 = moegpu.route score sigmoid %z k = 2 stats <sequence, alpha = 1.0e-04, seq_len = 4096> chunk = 48
      grid = persistent tokens(%T) outs(%ids, %w, %st : tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x16xf32>)
      : tensor<?x8xf32> -> tensor<?x2xi32>, tensor<?x2xf32>, tensor<?x16xf32>
  return
}
