func.func @route(%s: tensor<4x8xf32>) {
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

func.func @main(%s: tensor<4x8xf32>) {
  call @route(%s) : (tensor<4x8xf32>) -> ()
  return
}
