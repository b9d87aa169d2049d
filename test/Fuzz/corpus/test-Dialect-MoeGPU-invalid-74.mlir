func.func @zero_tail_row_bytes(%off: tensor<9xi32>, %y: tensor<?x4xbf16>, %R: index) {
  %0 = moegpu.zero_tail offsets %off rows(%R) grid = persistent outs(%y : tensor<?x4xbf16>) : tensor<9xi32> -> tensor<?x4xbf16>
  return
}
