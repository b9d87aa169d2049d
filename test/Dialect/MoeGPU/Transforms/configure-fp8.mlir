// RUN: moe-opt %s --moe-expand-layer --canonicalize --cse --moegpu-configure=target=sm_90a --canonicalize | FileCheck %s
// FP8 GEMMs need wgmma: other targets and the mma_sync family say so.
// RUN: not moe-opt %s --moegpu-configure=target=sm_80 2>&1 | FileCheck %s --check-prefix=SM80
// RUN: not moe-opt %s --moegpu-configure=gemm-family=mma_sync 2>&1 | FileCheck %s --check-prefix=MMA
// SM80: error: 'moe.expert_ffn' op has FP8 (e4m3) experts, whose CUDA GEMMs need wgmma: target sm_80 has no FP8 path (sm_90a: H100, H200); the CPU reference (moe-lower-to-cpu) runs it
// MMA: error: 'moe.expert_ffn' op has FP8 (e4m3) experts, whose CUDA GEMMs need wgmma: target sm_90a with gemm-family=mma_sync has no FP8 path

// DeepSeek-V3's FP8 layer (scaled down) on sm_90a: x quantised once for
// the shared expert; the permute leaves its rows uncopied and the
// quantisation gathers x through its row_token instead (e4m3 rows and
// scales in one pass); each FFN is the FP8 gate/up GEMM (SiLU·mul into
// bf16 h), h's quantisation, the FP8 down GEMM; the routed output's
// unowned rows are zeroed; the combine is the bf16 one.
// CHECK-LABEL: func.func @fp8_layer
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x256xbf16>{{.*}}, %[[GU:[^:]+]]: tensor<8x256x256xf8E4M3FN>{{.*}}, %[[D:[^:]+]]: tensor<8x256x128xf8E4M3FN>{{.*}}, %[[GUS:[^:]+]]: tensor<8x2x2xf32>{{.*}}, %[[DS:[^:]+]]: tensor<8x2x1xf32>
// CHECK: %[[Q:.+]], %[[QS:.+]] = moegpu.quantize %[[X]] rows(%{{.+}}) ue8m0 grid = persistent
// CHECK-SAME: tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
// CHECK: %[[MAP:.+]], %[[OFF:.+]], %[[TOK:.+]], %{{.+}}, %{{.+}}, %{{.+}} = moegpu.permute %[[X]], %{{.+}}, %{{.+}} fused_place_blocks = 64 deferred_gather
// CHECK: %[[ROWS:.+]], %[[RS:.+]] = moegpu.quantize %[[X]] gather %[[TOK]] offsets %[[OFF]] rows(%[[R:.+]]) ue8m0 grid = persistent
// CHECK: %[[TILES:.+]] = moegpu.tile_map offsets %[[OFF]] experts = 8 row_tile = 128
// CHECK: %[[H:.+]] = moegpu.grouped_gemm %[[ROWS]], %[[GU]] scales %[[RS]], %[[GUS]] tiles %[[TILES]] rows(%[[R]])
// CHECK-SAME: #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 4, store = registers> epilogue silu_mul
// CHECK-SAME: : tensor<?x256xf8E4M3FN>, tensor<8x256x256xf8E4M3FN> scales tensor<?x2xf32>, tensor<8x2x2xf32>, tensor<?x4xi32> -> tensor<?x128xbf16>
// CHECK: %[[HQ:.+]], %[[HS:.+]] = moegpu.quantize %[[H]] rows(%[[R]]) ue8m0
// CHECK-SAME: tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
// CHECK: %[[Y:.+]] = moegpu.grouped_gemm %[[HQ]], %[[D]] scales %[[HS]], %[[DS]] tiles %[[TILES]] rows(%[[R]])
// CHECK-SAME: #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 4, store = registers> epilogue none
// CHECK-SAME: -> tensor<?x256xbf16>
// CHECK: %[[YZ:.+]] = moegpu.zero_tail offsets %[[OFF]] rows(%[[R]])
// CHECK: moegpu.grouped_gemm %[[Q]], %{{.+}} scales %[[QS]], %{{.+}} tiles
// CHECK-SAME: epilogue silu_mul
// CHECK: moegpu.quantize
// CHECK: moegpu.grouped_gemm
// CHECK-SAME: epilogue none
// CHECK: moegpu.combine %[[YZ]], %[[MAP]]
func.func @fp8_layer(%x: tensor<?x256xbf16>, %r: tensor<8x256xbf16>, %gu: tensor<8x256x256xf8E4M3FN>,
                     %d: tensor<8x256x128xf8E4M3FN>, %gus: tensor<8x2x2xf32>, %ds: tensor<8x2x1xf32>,
                     %sgu: tensor<1x256x256xf8E4M3FN>, %sd: tensor<1x256x128xf8E4M3FN>,
                     %sgus: tensor<1x2x2xf32>, %sds: tensor<1x2x1xf32>) -> tensor<?x256xbf16> {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds shared %sgu, %sd
      shared_scales %sgus, %sds ue8m0 score sigmoid k = 2 normalize
      : (tensor<?x256xbf16>, tensor<8x256xbf16>, tensor<8x256x256xf8E4M3FN>, tensor<8x256x128xf8E4M3FN>,
         tensor<8x2x2xf32>, tensor<8x2x1xf32>, tensor<1x256x256xf8E4M3FN>, tensor<1x256x128xf8E4M3FN>,
         tensor<1x2x2xf32>, tensor<1x2x1xf32>) -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

// A hidden size that is an odd multiple of 128: the down projection's
// outputs are not whole 256-column tiles, so it takes the narrow tile (and
// the stages it leaves room for); gate/up keeps the wide one.
// CHECK-LABEL: func.func @fp8_narrow_down
// CHECK: moegpu.grouped_gemm {{.+}} #moegpu.gemm<wgmma, tile = [128, 256, 128], stages = 4, store = registers> epilogue silu_mul
// CHECK-SAME: -> tensor<?x128xbf16>
// CHECK: moegpu.grouped_gemm {{.+}} #moegpu.gemm<wgmma, tile = [128, 128, 128], stages = 7, store = registers> epilogue none
// CHECK-SAME: -> tensor<?x384xbf16>
func.func @fp8_narrow_down(%x: tensor<?x384xbf16>, %r: tensor<8x384xbf16>, %gu: tensor<8x256x384xf8E4M3FN>,
                           %d: tensor<8x384x128xf8E4M3FN>, %gus: tensor<8x2x3xf32>, %ds: tensor<8x3x1xf32>) -> tensor<?x384xbf16> {
  %y = moe.layer %x router %r experts %gu, %d scales %gus, %ds score sigmoid k = 2 normalize
      : (tensor<?x384xbf16>, tensor<8x384xbf16>, tensor<8x256x384xf8E4M3FN>, tensor<8x384x128xf8E4M3FN>,
         tensor<8x2x3xf32>, tensor<8x3x1xf32>) -> tensor<?x384xbf16>
  return %y : tensor<?x384xbf16>
}
