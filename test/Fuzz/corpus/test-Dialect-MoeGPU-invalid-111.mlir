func.func @quantize_values_type(%x: tensor<?x256xbf16>, %q: tensor<?x256xi8>, %s: tensor<?x2xf32>, %R: index) {
  %0:2 = moegpu.quantize %x rows(%R) grid = persistent outs(%q, %s : tensor<?x256xi8>, tensor<?x2xf32>)
      : tensor<?x256xbf16> -> tensor<?x256xi8>, tensor<?x2xf32>
  return
}
