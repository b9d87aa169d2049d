func.func @quantize_scales(%x: tensor<?x256xbf16>, %q: tensor<?x256xf8E4M3FN>, %s: tensor<?x4xf32>, %R: index) {
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x256xf8E4M3FN>, tensor<?x4xf32>)
      : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
  return
}
