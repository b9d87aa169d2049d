func.func @blocks(%s: tensor<4x8xf32>, %c: i1) {
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  cf.cond_br %c, ^a, ^b
^a:
  return
^b:
  return
}
