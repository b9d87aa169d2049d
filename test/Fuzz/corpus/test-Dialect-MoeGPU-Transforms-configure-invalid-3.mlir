func.func @combine(%h: tensor<?x2xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x2xbf16> {
  %y = moe.combine %h, %map, %w : (tensor<?x2xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x2xbf16>
  return %y : tensor<?x2xbf16>
}
