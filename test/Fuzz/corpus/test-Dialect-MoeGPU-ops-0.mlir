module attributes {moegpu.target = #moegpu.target<"sm_90a">} {

func.func @route_full(%z: tensor<?x256xf32>, %b: tensor<256xf32>, %ids: tensor<?x8xi32>,
                      %w: tensor<?x8xf32>, %c: tensor<256xi32>, %st: tensor<?x512xf32>, %T: index)
    -> (tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>, tensor<?x512xf32>) {
  %r:4 = moegpu.route score sigmoid %z bias %b k = 8 groups = 8 group_topk = 4
      group_score = topk_sum<2> normalize scale = 2.5 counts
      stats #moe.loss<sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096> chunk = 64
      grid = persistent tokens(%T)
      outs(%ids, %w, %c, %st : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>, tensor<?x512xf32>)
      : tensor<?x256xf32>, tensor<256xf32>
      -> tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>, tensor<?x512xf32>
  return %r#0, %r#1, %r#2, %r#3 : tensor<?x8xi32>, tensor<?x8xf32>, tensor<256xi32>, tensor<?x512xf32>
}

func.func @route_minimal(%s: tensor<16x8xf32>, %ids: tensor<16x2xi32>, %w: tensor<16x2xf32>, %T: index)
    -> (tensor<16x2xi32>, tensor<16x2xf32>) {
  %r:2 = moegpu.route %s k = 2 groups = 1 group_topk = 1 group_score = max scale = 1.0
      grid = exact tokens(%T) outs(%ids, %w : tensor<16x2xi32>, tensor<16x2xf32>)
      : tensor<16x8xf32> -> tensor<16x2xi32>, tensor<16x2xf32>
  return %r#0, %r#1 : tensor<16x2xi32>, tensor<16x2xf32>
}

func.func @route_memref_stats(%z: memref<?x160xbf16>, %ids: memref<?x6xi32>, %w: memref<?x6xf32>,
                              %c: memref<160xi32>, %st: memref<?x328xf32>, %T: index) {
  moegpu.route score softmax %z k = 6 groups = 8 group_topk = 3 scale = 16.0 counts
      stats #moe.loss<device, alpha = 0.05, devices = 8> chunk = 16 grid = persistent tokens(%T)
      outs(%ids, %w, %c, %st : memref<?x6xi32>, memref<?x6xf32>, memref<160xi32>, memref<?x328xf32>)
      : memref<?x160xbf16>
  return
}

func.func @route_memref_bias(%s: memref<4x64xf32>, %b: memref<64xf32>, %ids: memref<4x4xi32>,
                             %w: memref<4x4xf32>, %T: index) {
  moegpu.route %s bias %b k = 4 grid = persistent tokens(%T)
      outs(%ids, %w : memref<4x4xi32>, memref<4x4xf32>) : memref<4x64xf32>, memref<64xf32>
  return
}

func.func @losses(%z: tensor<?x256xf32>, %st: tensor<?x512xf32>, %b: tensor<256xf32>, %c: tensor<256xi32>,
                  %l0: tensor<f32>, %g0: tensor<?x256xf32>, %s0: tensor<?xf64>, %d0: tensor<?x256xf32>,
                  %nb0: tensor<256xf32>, %T: index)
    -> (tensor<f32>, tensor<?x256xf32>, tensor<256xf32>) {
  %l:3 = moegpu.loss_from_stats %st <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      k = 8 chunk = 64 tokens(%T) outs(%l0, %g0, %s0 : tensor<f32>, tensor<?x256xf32>, tensor<?xf64>)
      : tensor<?x512xf32> -> tensor<f32>, tensor<?x256xf32>, tensor<?xf64>
  %grad = moegpu.loss_grad sigmoid %z, %l#1 <sequence, alpha = 1.0e-4, counts = topk, seq_len = 4096>
      grid = persistent tokens(%T) outs(%d0 : tensor<?x256xf32>)
      : tensor<?x256xf32>, tensor<?x256xf32> -> tensor<?x256xf32>
  %nb = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%nb0 : tensor<256xf32>)
      : tensor<256xf32>, tensor<256xi32> -> tensor<256xf32>
  return %l#0, %grad, %nb : tensor<f32>, tensor<?x256xf32>, tensor<256xf32>
}

func.func @loss_names(%z: tensor<8x64xbf16>, %st: tensor<1x128xf32>, %b: tensor<64xf32>, %c: tensor<64xi32>,
                      %l0: tensor<f32>, %g0: tensor<1x64xf32>, %s0: tensor<1xf64>, %d0: tensor<8x64xf32>,
                      %nb0: tensor<64xf32>, %T: index) {
  %l:3 = moegpu.loss_from_stats %st <expert, alpha = 3.0e-3> k = 2 chunk = 8 tokens(%T)
      outs(%l0, %g0, %s0 : tensor<f32>, tensor<1x64xf32>, tensor<1xf64>)
      : tensor<1x128xf32> -> tensor<f32>, tensor<1x64xf32>, tensor<1xf64>
  %grad = moegpu.loss_grad softmax %z, %l#1 <expert, alpha = 3.0e-3> grid = exact tokens(%T)
      outs(%d0 : tensor<8x64xf32>) : tensor<8x64xbf16>, tensor<1x64xf32> -> tensor<8x64xf32>
  %nb = moegpu.bias_update %b, %c rate = 1.0e-3 outs(%nb0 : tensor<64xf32>)
      : tensor<64xf32>, tensor<64xi32> -> tensor<64xf32>
  return
}

func.func @losses_memref(%z: memref<?x160xbf16>, %st: memref<?x328xf32>, %b: memref<160xf32>, %c: memref<160xi32>,
                         %l: memref<f32>, %g: memref<?x160xf32>, %s: memref<?xf64>, %d: memref<?x160xf32>,
                         %nb: memref<160xf32>, %T: index) {
  moegpu.loss_from_stats %st <comm, alpha = 0.02, devices = 8, device_limit = 3> k = 6 chunk = 64
      tokens(%T) outs(%l, %g, %s : memref<f32>, memref<?x160xf32>, memref<?xf64>) : memref<?x328xf32>
  moegpu.loss_grad softmax %z, %g <comm, alpha = 0.02, devices = 8, device_limit = 3>
      grid = exact tokens(%T) outs(%d : memref<?x160xf32>) : memref<?x160xbf16>, memref<?x160xf32>
  moegpu.bias_update %b, %c rate = 0.5 outs(%nb : memref<160xf32>) : memref<160xf32>, memref<160xi32>
  return
}

func.func @dispatch_layout(%ids: tensor<?x8xi32>, %pe: tensor<256xi32>, %pr: tensor<8xi32>, %pn: tensor<2xi32>,
                           %m: tensor<?x8xi1>, %T: index)
    -> (tensor<256xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>) {
  %r:4 = moegpu.dispatch_layout %ids topology #moe.topology<nodes = 2, gpus_per_node = 4, experts_per_gpu = 32>
      grid = persistent tokens(%T)
      outs(%pe, %pr, %pn, %m : tensor<256xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>)
      : tensor<?x8xi32> -> tensor<256xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>
  return %r#0, %r#1, %r#2, %r#3 : tensor<256xi32>, tensor<8xi32>, tensor<2xi32>, tensor<?x8xi1>
}

func.func @dispatch_layout_memref(%ids: memref<3x4xi32>, %pe: memref<32xi32>, %pr: memref<16xi32>,
                                  %pn: memref<2xi32>, %m: memref<3x16xi1>, %T: index) {
  moegpu.dispatch_layout %ids topology #moe.topology<nodes = 2, gpus_per_node = 8, experts_per_gpu = 2, node_limit = 1>
      grid = exact tokens(%T) outs(%pe, %pr, %pn, %m : memref<32xi32>, memref<16xi32>, memref<2xi32>, memref<3x16xi1>)
      : memref<3x4xi32>
  return
}

func.func @permute_plain(%x: tensor<?x7168xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>,
                         %map: tensor<?x8xi32>, %off: tensor<257xi32>, %rt: tensor<?xi32>, %lr: tensor<?xi32>,
                         %bc: tensor<?x256xi32>, %tot: tensor<257xi32>, %rows: tensor<?x7168xbf16>, %T: index)
    -> (tensor<?x7168xbf16>, tensor<257xi32>) {
  %r:7 = moegpu.permute %x, %ids, %w fused_place_blocks = 64 grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot, %rows : tensor<?x8xi32>, tensor<257xi32>, tensor<?xi32>,
           tensor<?xi32>, tensor<?x256xi32>, tensor<257xi32>, tensor<?x7168xbf16>)
      : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>
      -> tensor<?x8xi32>, tensor<257xi32>, tensor<?xi32>, tensor<?xi32>, tensor<?x256xi32>, tensor<257xi32>,
         tensor<?x7168xbf16>
  return %r#6, %r#1 : tensor<?x7168xbf16>, tensor<257xi32>
}

func.func @permute_probs(%x: tensor<4x64xf16>, %ids: tensor<4x8xi32>, %w: tensor<4x8xf32>,
                         %map: tensor<4x8xi32>, %off: tensor<17xi32>, %rt: tensor<32xi32>, %lr: tensor<32xi32>,
                         %bc: tensor<1x16xi32>, %tot: tensor<17xi32>, %seg: tensor<32xi32>,
                         %rows: tensor<32x64xf16>, %T: index) -> (tensor<32xi32>, tensor<32x64xf16>) {
  %r:8 = moegpu.permute %x, %ids, %w capacity_factor = 1.25 drop probs fused_place_blocks = 0
      grid = exact tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot, %seg, %rows : tensor<4x8xi32>, tensor<17xi32>, tensor<32xi32>,
           tensor<32xi32>, tensor<1x16xi32>, tensor<17xi32>, tensor<32xi32>, tensor<32x64xf16>)
      : tensor<4x64xf16>, tensor<4x8xi32>, tensor<4x8xf32>
      -> tensor<4x8xi32>, tensor<17xi32>, tensor<32xi32>, tensor<32xi32>, tensor<1x16xi32>, tensor<17xi32>,
         tensor<32xi32>, tensor<32x64xf16>
  return %r#6, %r#7 : tensor<32xi32>, tensor<32x64xf16>
}

func.func @permute_position_deferred(%x: tensor<?x7168xbf16>, %ids: tensor<?x8xi32>, %w: tensor<?x8xf32>,
                                     %map: tensor<?x8xi32>, %off: tensor<257xi32>, %rt: tensor<?xi32>,
                                     %lr: tensor<?xi32>, %bc: tensor<?x256xi32>, %tot: tensor<257xi32>,
                                     %T: index) -> tensor<?xi32> {
  %r:6 = moegpu.permute %x, %ids, %w capacity_factor = 2.0 drop position fused_place_blocks = 64
      deferred_gather grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot : tensor<?x8xi32>, tensor<257xi32>, tensor<?xi32>, tensor<?xi32>,
           tensor<?x256xi32>, tensor<257xi32>)
      : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>
      -> tensor<?x8xi32>, tensor<257xi32>, tensor<?xi32>, tensor<?xi32>, tensor<?x256xi32>, tensor<257xi32>
  return %r#2 : tensor<?xi32>
}

func.func @permute_memref(%x: memref<?x2048xf32>, %ids: memref<?x6xi32>, %w: memref<?x6xf32>,
                          %map: memref<?x6xi32>, %off: memref<161xi32>, %rt: memref<?xi32>, %lr: memref<?xi32>,
                          %bc: memref<?x160xi32>, %tot: memref<161xi32>, %seg: memref<?xi32>, %T: index) {
  moegpu.permute %x, %ids, %w capacity_factor = 1.0 fused_place_blocks = 64 deferred_gather
      grid = persistent tokens(%T)
      outs(%map, %off, %rt, %lr, %bc, %tot, %seg : memref<?x6xi32>, memref<161xi32>, memref<?xi32>,
           memref<?xi32>, memref<?x160xi32>, memref<161xi32>, memref<?xi32>)
      : memref<?x2048xf32>, memref<?x6xi32>, memref<?x6xf32>
  return
}

func.func @combine_shared(%h: tensor<?x7168xbf16>, %map: tensor<?x8xi32>, %w: tensor<?x8xf32>,
                          %sh: tensor<?x7168xbf16>, %y0: tensor<?x7168xbf16>, %R: index, %T: index)
    -> tensor<?x7168xbf16> {
  %y = moegpu.combine %h, %map, %w shared %sh rows(%R) grid = persistent tokens(%T)
      outs(%y0 : tensor<?x7168xbf16>)
      : tensor<?x7168xbf16>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<?x7168xbf16> -> tensor<?x7168xbf16>
  return %y : tensor<?x7168xbf16>
}

func.func @combine_plain(%h: tensor<?x64xf32>, %map: tensor<4x2xi32>, %w: tensor<4x2xf32>,
                         %y0: tensor<4x64xf32>, %R: index, %T: index) -> tensor<4x64xf32> {
  %y = moegpu.combine %h, %map, %w rows(%R) grid = exact tokens(%T) outs(%y0 : tensor<4x64xf32>)
      : tensor<?x64xf32>, tensor<4x2xi32>, tensor<4x2xf32> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

func.func @combine_memref(%h: memref<?x2048xf16>, %map: memref<?x6xi32>, %w: memref<?x6xf32>,
                          %sh: memref<?x2048xf16>, %y: memref<?x2048xf16>, %R: index, %T: index) {
  moegpu.combine %h, %map, %w shared %sh rows(%R) grid = persistent tokens(%T) outs(%y : memref<?x2048xf16>)
      : memref<?x2048xf16>, memref<?x6xi32>, memref<?x6xf32>, memref<?x2048xf16>
  moegpu.combine %h, %map, %w rows(%R) grid = exact tokens(%T) outs(%y : memref<?x2048xf16>)
      : memref<?x2048xf16>, memref<?x6xi32>, memref<?x6xf32>
  return
}

func.func @tile_map(%off: tensor<257xi32>, %t0: tensor<?x4xi32>, %t1: tensor<?x4xi32>, %R: index)
    -> (tensor<?x4xi32>, tensor<?x4xi32>) {
  %a = moegpu.tile_map offsets %off experts = 256 row_tile = 128 chunk = 8 rows(%R)
      outs(%t0 : tensor<?x4xi32>) : tensor<257xi32> -> tensor<?x4xi32>
  %b = moegpu.tile_map experts = 1 row_tile = 256 chunk = 15 rows(%R) outs(%t1 : tensor<?x4xi32>)
      -> tensor<?x4xi32>
  return %a, %b : tensor<?x4xi32>, tensor<?x4xi32>
}

func.func @tile_map_memref(%off: memref<9xi32>, %t: memref<?x4xi32>, %R: index) {
  moegpu.tile_map offsets %off experts = 8 row_tile = 128 chunk = 1 rows(%R) outs(%t : memref<?x4xi32>)
      : memref<9xi32>
  moegpu.tile_map experts = 1 row_tile = 128 chunk = 4 rows(%R) outs(%t : memref<?x4xi32>)
  return
}

func.func @zero_tail(%off: tensor<257xi32>, %y: tensor<?x7168xbf16>, %ym: memref<?x7168xbf16>,
                     %om: memref<257xi32>, %R: index) -> tensor<?x7168xbf16> {
  %y2 = moegpu.zero_tail offsets %off rows(%R) grid = persistent outs(%y : tensor<?x7168xbf16>)
      : tensor<257xi32> -> tensor<?x7168xbf16>
  moegpu.zero_tail offsets %om rows(%R) grid = exact outs(%ym : memref<?x7168xbf16>) : memref<257xi32>
  return %y2 : tensor<?x7168xbf16>
}

func.func @copy_zero(%b: tensor<256xf32>, %nb: tensor<256xf32>, %l: tensor<f32>,
                     %ids: memref<?x8xi32>, %out: memref<?x8xi32>, %T: index)
    -> (tensor<256xf32>, tensor<f32>) {
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %c = moegpu.copy %b rows(%c256) outs(%nb : tensor<256xf32>) : tensor<256xf32> -> tensor<256xf32>
  %z = moegpu.zero rows(%c1) outs(%l : tensor<f32>) -> tensor<f32>
  moegpu.copy %ids rows(%T) outs(%out : memref<?x8xi32>) : memref<?x8xi32>
  moegpu.zero rows(%T) outs(%out : memref<?x8xi32>)
  return %c, %z : tensor<256xf32>, tensor<f32>
}

func.func @gemm_gate_up(%a: tensor<?x7168xbf16>, %w: tensor<256x4096x7168xbf16>, %tiles: tensor<?x4xi32>,
                        %o: tensor<?x2048xbf16>, %R: index) -> tensor<?x2048xbf16> {
  %h = moegpu.grouped_gemm %a, %w tiles %tiles rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue silu_mul
      outs(%o : tensor<?x2048xbf16>)
      : tensor<?x7168xbf16>, tensor<256x4096x7168xbf16>, tensor<?x4xi32> -> tensor<?x2048xbf16>
  return %h : tensor<?x2048xbf16>
}

func.func @gemm_fp8(%a: tensor<?x7168xf8E4M3FN>, %as: tensor<?x56xf32>, %w: tensor<256x4096x7168xf8E4M3FN>,
                    %ws: tensor<256x32x56xf32>, %tiles: tensor<?x4xi32>, %o: tensor<?x2048xbf16>,
                    %R: index) -> tensor<?x2048xbf16> {
  %h = moegpu.grouped_gemm %a, %w scales %as, %ws tiles %tiles rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue silu_mul
      outs(%o : tensor<?x2048xbf16>)
      : tensor<?x7168xf8E4M3FN>, tensor<256x4096x7168xf8E4M3FN> scales tensor<?x56xf32>,
        tensor<256x32x56xf32>, tensor<?x4xi32> -> tensor<?x2048xbf16>
  return %h : tensor<?x2048xbf16>
}

func.func @quantize(%x: tensor<?x7168xbf16>, %tok: tensor<?xi32>, %off: tensor<257xi32>,
                    %q: tensor<?x7168xf8E4M3FN>, %s: tensor<?x56xf32>, %T: index, %R: index)
    -> (tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>) {
  %q1, %s1 = moegpu.quantize %x rows(%T) grid = persistent
      outs(%q, %s : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>)
      : tensor<?x7168xbf16> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
  %q2, %s2 = moegpu.quantize %x gather %tok offsets %off rows(%R) ue8m0 grid = persistent
      outs(%q, %s : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>)
      : tensor<?x7168xbf16>, tensor<?xi32>, tensor<257xi32> -> tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
  return %q1, %s1, %q2, %s2 : tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>, tensor<?x7168xf8E4M3FN>, tensor<?x56xf32>
}

func.func @gemm_gather(%x: tensor<?x7168xbf16>, %w: tensor<256x4096x7168xbf16>, %tiles: tensor<?x4xi32>,
                       %rt: tensor<?xi32>, %o: tensor<?x2048xbf16>, %T: index, %R: index) -> tensor<?x2048xbf16> {
  %h = moegpu.grouped_gemm %x, %w tiles %tiles gather %rt a_rows(%T) rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma> epilogue silu_mul
      outs(%o : tensor<?x2048xbf16>)
      : tensor<?x7168xbf16>, tensor<256x4096x7168xbf16>, tensor<?x4xi32>, tensor<?xi32> -> tensor<?x2048xbf16>
  return %h : tensor<?x2048xbf16>
}

func.func @gemm_split_k(%x: tensor<?x7168xbf16>, %w: tensor<256x7168xbf16>, %tiles: tensor<?x4xi32>,
                        %o: tensor<?x256xf32>, %p: tensor<?x256xf32>, %R: index)
    -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %r:2 = moegpu.grouped_gemm %x, %w tiles %tiles rows(%R)
      #moegpu.gemm<wgmma, tile = [256, 128, 64], stages = 3, store = registers,
                   split_k = #moegpu.regimes<[128 -> 8, 256 -> 4, 512 -> 2], 1>>
      epilogue none outs(%o, %p : tensor<?x256xf32>, tensor<?x256xf32>)
      : tensor<?x7168xbf16>, tensor<256x7168xbf16>, tensor<?x4xi32> -> tensor<?x256xf32>, tensor<?x256xf32>
  return %r#0, %r#1 : tensor<?x256xf32>, tensor<?x256xf32>
}

func.func @gemm_mma_sync_memref(%x: memref<?x2048xbf16>, %gu: memref<64x2816x2048xbf16>,
                                %d: memref<64x2048x1408xbf16>, %tiles: memref<?x4xi32>, %rt: memref<?xi32>,
                                %h: memref<?x1408xbf16>, %y: memref<?x2048xf32>, %T: index, %R: index) {
  moegpu.grouped_gemm %x, %gu tiles %tiles gather %rt a_rows(%T) rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue silu_mul
      outs(%h : memref<?x1408xbf16>) : memref<?x2048xbf16>, memref<64x2816x2048xbf16>, memref<?x4xi32>, memref<?xi32>
  moegpu.grouped_gemm %h, %d tiles %tiles rows(%R)
      #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers> epilogue none
      outs(%y : memref<?x2048xf32>) : memref<?x1408xbf16>, memref<64x2048x1408xbf16>, memref<?x4xi32>
  return
}

func.func @gemm_split_k_memref(%x: memref<?x7168xbf16>, %w: memref<1x512x7168xbf16>, %tiles: memref<?x4xi32>,
                               %o: memref<?x256xbf16>, %p: memref<?x512xf32>, %R: index) {
  moegpu.grouped_gemm %x, %w tiles %tiles rows(%R)
      #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 2, store = registers, split_k = #moegpu.regimes<[], 2>>
      epilogue silu_mul outs(%o, %p : memref<?x256xbf16>, memref<?x512xf32>)
      : memref<?x7168xbf16>, memref<1x512x7168xbf16>, memref<?x4xi32>
  return
}

func.func @launcher(
    %x: memref<?x7168xbf16> {moegpu.param = #moegpu.param<input, "x", rows = affine_map<()[s0] -> (s0)>>},
    %b: memref<256xf32> {moegpu.param = #moegpu.param<input, "bias">},
    %y: memref<?x7168xbf16> {moegpu.param = #moegpu.param<output, "expert_out",
                              rows = affine_map<()[s0] -> (s0 * 8)>, type = tensor<?x7168xbf16>>},
    %ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "_workspace">},
    %T: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">},
    %stream: i64 {moegpu.param = #moegpu.param<stream, "stream">})
    attributes {moegpu.static_tokens = 4096 : i64,
                moegpu.workspace = #moegpu.workspace<"launcher_workspace_size", alignment = 256, [
                  #moegpu.buffer<"k0.route.weights", "ceildiv(num_tokens * 32, 256) * 256">,
                  #moegpu.buffer<"k1.permute.rows", "num_tokens * 114688", after = [0]>]>} {
  return
}

func.func @launcher_workspace_size(%T: index) -> index attributes {moegpu.workspace_size_of = @launcher} {
  return %T : index
}

func.func @attrs() attributes {
    grid = #moegpu.grid<persistent>, grid_exact = #moegpu.grid<exact>,
    epilogue = #moegpu.gemm_epilogue<silu_mul>, epilogue_none = #moegpu.gemm_epilogue<none>,
    family = #moegpu.gemm_family<wgmma>, family_mma = #moegpu.gemm_family<mma_sync>,
    store = #moegpu.gemm_store<tma>, store_registers = #moegpu.gemm_store<registers>,
    regimes = #moegpu.regimes<[0 -> 3, 128 -> -1, 4096 -> 7], 9>,
    regimes_empty = #moegpu.regimes<[], 1>,
    gemm_mma = #moegpu.gemm<mma_sync, tile = [128, 128, 32], stages = 3, store = registers>,
    gemm_wgmma = #moegpu.gemm<wgmma, tile = [256, 128, 64], stages = 4, store = tma>,
    gemm_split = #moegpu.gemm<wgmma, tile = [128, 256, 64], stages = 4, store = tma,
                              split_k = #moegpu.regimes<[128 -> 8, 256 -> 4], 1>>,
    param = #moegpu.param<output, "ids", rows = affine_map<()[s0] -> (s0 ceildiv 64)>, type = tensor<?x8xi32>>,
    buffer = #moegpu.buffer<"k2.tile_map.tiles", "4096", after = [1, 3]>,
    workspace = #moegpu.workspace<"f_workspace_size", alignment = 512, [#moegpu.buffer<"a", "256">, #moegpu.buffer<"b", "num_tokens", after = [0]>]>,
    workspace_empty = #moegpu.workspace<"g_workspace_size", alignment = 256>,
    param_typed = #moegpu.param<input, "bias", type = memref<256xf32>>,
    target = #moegpu.target<"sm_80">, target_86 = #moegpu.target<"sm_86">,
    target_89 = #moegpu.target<"sm_89">, target_90 = #moegpu.target<"sm_90">} {
  return
}

}
