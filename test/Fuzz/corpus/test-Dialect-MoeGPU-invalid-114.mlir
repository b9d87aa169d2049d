func.func @quantize_gather_pair(%x: tensor<?x256xbf16>, %tok: tensor<?xi32>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  %0:2 = "moegpu.quantize"(%x, %tok, %R, %q, %s) <{grid = #moegpu.grid<persistent>,
      operandSegmentSizes = array<i32: 1, 1, 0, 1, 2>}>
      : (tensor<?x256xbf16>, tensor<?xi32>, index, tensor<?x256xf8E4M3FN>, tensor<?x2xf32>) -> (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>)
  return
}
