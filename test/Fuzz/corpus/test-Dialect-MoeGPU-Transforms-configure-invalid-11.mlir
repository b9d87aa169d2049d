func.func @quantize_group(%x: tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x4xf32>) {
  %q, %s = moe.quantize %x group = 64 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
  return %q, %s : tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
}
