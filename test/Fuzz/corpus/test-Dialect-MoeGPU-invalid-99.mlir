func.func @zero_tail_no_experts(%off: tensor<1xi32>, %y: tensor<?x8xbf16>, %R: index) {
  %0 = moegpu.zero_tail offsets %off rows(%R) grid = persistent outs(%y : tensor<?x8xbf16>) : tensor<1xi32> -> tensor<?x8xbf16>
  return
}
