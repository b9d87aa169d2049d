func.func @grid_keyword(%b: tensor<8xf32>, %c: tensor<8xi32>, %o: tensor<8xf32>, %R: index) {
  %0 = moegpu.zero_tail offsets %c rows(%R) grid = dynamic outs(%o : tensor<8xf32>) : tensor<8xi32> -> tensor<8xf32>
  return
}
