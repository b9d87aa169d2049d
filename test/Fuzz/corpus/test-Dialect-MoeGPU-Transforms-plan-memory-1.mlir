func.func @combine(%h: tensor<?x64xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x64xbf16> {
  %y = moe.combine %h, %map, %w : (tensor<?x64xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}
