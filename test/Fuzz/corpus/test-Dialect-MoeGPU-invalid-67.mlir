func.func @tile_map_experts(%off: tensor<1xi32>, %t: tensor<?x4xi32>, %R: index) {
  %0 = moegpu.tile_map offsets %off experts = 0 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>)
      : tensor<1xi32> -> tensor<?x4xi32>
  return
}
