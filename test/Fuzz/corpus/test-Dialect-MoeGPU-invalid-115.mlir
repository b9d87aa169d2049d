func.func @quantize_row_token(%x: tensor<?x256xbf16>, %tok: tensor<?xi64>, %off: tensor<9xi32>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  %0:2 = moegpu.quantize %x gather %tok offsets %off rows(%R) grid = persistent outs(%q, %s : tensor<?x256xf8E4M3FN>, tensor<?x2xf32>)
      : tensor<?x256xbf16>, tensor<?xi64>, tensor<9xi32> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  return
}
