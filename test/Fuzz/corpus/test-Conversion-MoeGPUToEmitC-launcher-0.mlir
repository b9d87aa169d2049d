module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @experts_workspace_size(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> index attributes {moegpu.workspace_size_of = @experts} {
    %c256 = arith.constant 256 : index
    %c128 = arith.constant 128 : index
    %0 = arith.ceildivsi %n, %c128 : index
    %1 = arith.muli %0, %c256 : index
    %2 = arith.maxsi %1, %c256 : index
    return %2 : index
  }
  func.func @experts(%rows: memref<?x256xbf16> {moegpu.param = #moegpu.param<input, "rows", rows = affine_map<()[s0] -> (s0)>>},
                     %offsets: memref<9xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                     %out: memref<?x256xbf16> {moegpu.param = #moegpu.param<output, "expert_out", rows = affine_map<()[s0] -> (s0)>>},
                     %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                     %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.static_tokens = 4 : i64, moegpu.workspace = #moegpu.workspace<"experts_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">]>} {
    %c0 = arith.constant 0 : index
    %c9 = arith.constant 9 : index
    %view = memref.view %ws[%c0][%c9] : memref<?xi8> to memref<?x4xi32>
    moegpu.tile_map offsets %offsets experts = 8 row_tile = 128 chunk = 8 rows(%n) outs(%view : memref<?x4xi32>) : memref<9xi32>
    moegpu.zero_tail offsets %offsets rows(%n) grid = exact outs(%out : memref<?x256xbf16>) : memref<9xi32>
    return
  }
}
