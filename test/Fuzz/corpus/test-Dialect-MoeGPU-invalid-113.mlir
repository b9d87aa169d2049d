func.func @quantize_rows(%x: tensor<4x256xbf16>, %q: tensor<8x256xf8E4M3FN>, %s: tensor<8x2xf32>, %R: index) {
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<8x256xf8E4M3FN>, tensor<8x2xf32>)
      : tensor<4x256xbf16> -> tensor<8x256xf8E4M3FN>, tensor<8x2xf32>
  return
}
