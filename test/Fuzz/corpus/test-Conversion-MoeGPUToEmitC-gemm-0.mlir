module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @router(%x: memref<?x256xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                    %w: memref<64x256xbf16> {moegpu.param = #moegpu.param<input, "router">},
                    %out: memref<?x64xf32> {moegpu.param = #moegpu.param<output, "logits", rows = affine_map<()[s0] -> (s0)>>},
                    %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                    %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64, moegpu.workspace = #moegpu.workspace<"router_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %tiles = memref.view %ws[%c0][%c1] : memref<?xi8> to memref<?x4xi32>
    moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%n) outs(%tiles : memref<?x4xi32>)
    moegpu.grouped_gemm %x, %w tiles %tiles rows(%n) #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none outs(%out : memref<?x64xf32>) : memref<?x256xbf16>, memref<64x256xbf16>, memref<?x4xi32>
    return
  }
}
