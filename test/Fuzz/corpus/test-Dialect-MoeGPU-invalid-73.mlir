func.func @tile_map_entry(%t: tensor<?x3xi32>, %R: index) {
  %0 = moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x3xi32>) -> tensor<?x3xi32>
  return
}
