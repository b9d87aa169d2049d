func.func @tile_map_max_experts(%off: tensor<2049xi32>, %t: tensor<?x4xi32>, %R: index) {
  %0 = moegpu.tile_map offsets %off experts = 2048 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>)
      : tensor<2049xi32> -> tensor<?x4xi32>
  return
}
