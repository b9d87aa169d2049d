func.func @quantize_width(%x: tensor<?x200xbf16>, %q: tensor<?x200xf8E4M3FN>, %s: tensor<?x2xf32>, %R: index) {
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x200xf8E4M3FN>, tensor<?x2xf32>)
      : tensor<?x200xbf16> -> tensor<?x200xf8E4M3FN>, tensor<?x2xf32>
  return
}
