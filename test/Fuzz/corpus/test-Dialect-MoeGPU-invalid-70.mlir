func.func @tile_map_chunk(%t: tensor<?x4xi32>, %R: index) {
  %0 = moegpu.tile_map experts = 1 row_tile = 128 chunk = 0 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}
