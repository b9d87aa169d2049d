func.func @tile_map_no_offsets(%t: tensor<?x4xi32>, %R: index) {
  %0 = moegpu.tile_map experts = 8 row_tile = 128 chunk = 8 rows(%R) outs(%t : tensor<?x4xi32>) -> tensor<?x4xi32>
  return
}
