func.func @tile_map_row_tile(%t: tensor<?x4xi32>, %R: index) {
  %0 = moegpu.tile_map experts = 1 row_tile = 64 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}
