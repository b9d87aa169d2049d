func.func @layout_ranks(%ids: tensor<3x4xi32>, %pe: tensor<32xi32>, %pr: tensor<8xi32>, %pn: tensor<2xi32>,
                        %m: tensor<3x16xi1>, %T: index) {
  %0:4 = moegpu.dispatch_layout %ids topology <nodes = 2, gpus_per_node = 8, experts_per_gpu = 2>
      grid = persistent tokens(%T) outs(%pe, %pr, %pn, %m : tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>)
      : tensor<3x4xi32> -> tensor<32xi32>, tensor<8xi32>, tensor<2xi32>, tensor<3x16xi1>
  return
}
