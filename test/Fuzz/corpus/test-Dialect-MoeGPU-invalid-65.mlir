func.func @combine_max_slots(%h: tensor<?x64xbf16>, %map: tensor<4x257xi32>, %w: tensor<4x257xf32>,
                             %y: tensor<4x64xbf16>, %R: index, %T: index) {
  %0 = moegpu.combine %h, %map, %w rows(%R) grid = persistent tokens(%T) outs(%y : tensor<4x64xbf16>)
      : tensor<?x64xbf16>, tensor<4x257xi32>, tensor<4x257xf32> -> tensor<4x64xbf16>
  return
}
