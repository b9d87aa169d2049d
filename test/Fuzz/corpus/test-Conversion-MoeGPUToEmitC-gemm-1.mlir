module attributes {moegpu.target = #moegpu.target<"sm_90a">} {
  func.func @shared(%x: memref<?x7168xbf16> {moegpu.param = #moegpu.param<input, "input", rows = affine_map<()[s0] -> (s0)>>},
                    %w: memref<1x4096x7168xbf16> {moegpu.param = #moegpu.param<input, "shared_gate_up">},
                    %out: memref<?x2048xbf16> {moegpu.param = #moegpu.param<output, "h", rows = affine_map<()[s0] -> (s0)>>},
                    %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                    %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
      attributes {moegpu.max_tokens = 1000000 : i64, moegpu.workspace = #moegpu.workspace<"shared_workspace_size", alignment = 256, [<"k0.tile_map.tiles", "256">, <"k1.grouped_gemm.partial", "num_tokens * 16384", after = [0]>]>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c256 = arith.constant 256 : index
    %tiles = memref.view %ws[%c0][%c1] : memref<?xi8> to memref<?x4xi32>
    %partial = memref.view %ws[%c256][%n] : memref<?xi8> to memref<?x4096xf32>
    moegpu.tile_map experts = 1 row_tile = 128 chunk = 8 rows(%n) outs(%tiles : memref<?x4xi32>)
    moegpu.grouped_gemm %x, %w tiles %tiles rows(%n) #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma, split_k = #moegpu.regimes<[128 -> 8, 256 -> 4], 1>> epilogue silu_mul outs(%out, %partial : memref<?x2048xbf16>, memref<?x4096xf32>) : memref<?x7168xbf16>, memref<1x4096x7168xbf16>, memref<?x4xi32>
    return
  }
}
