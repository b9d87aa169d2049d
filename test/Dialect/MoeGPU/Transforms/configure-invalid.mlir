// RUN: moe-opt %s --split-input-file --moegpu-configure --verify-diagnostics
// Options the pass refuses:
// RUN: not moe-opt %s --split-input-file --moegpu-configure=target=sm_75 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: unknown target 'sm_75' (KernelLimits.td has sm_80, sm_86, sm_89, sm_90, sm_90a)
// RUN: not moe-opt %s --split-input-file --moegpu-configure=gemm-family=cublas 2>&1 | FileCheck %s --check-prefix=FAMILY
// FAMILY: error: gemm-family must be 'auto' or 'mma_sync', not 'cublas'
// RUN: not moe-opt %s --split-input-file --moegpu-configure=gemm-store=shared 2>&1 | FileCheck %s --check-prefix=STORE
// STORE: error: gemm-store must be 'auto' or 'registers', not 'shared'
// RUN: not moe-opt %s --split-input-file --moegpu-configure=tile-chunk=16 2>&1 | FileCheck %s --check-prefix=CHUNK
// CHUNK: error: tile-chunk 16 exceeds the CUDA kernels' limit GemmMaxTileChunk = 15 (row tiles per chunk (the tile map stores the chunk in 4 bits))
// RUN: not moe-opt %s --split-input-file --moegpu-configure=tile-chunk=0 2>&1 | FileCheck %s --check-prefix=CHUNK0
// CHUNK0: error: tile-chunk must be at least 1

// A launcher takes ranked tensors.
// expected-error @+1 {{a CUDA launcher takes and returns ranked tensors, not 'tensor<*xf32>'}}
func.func @unranked(%z: tensor<*xf32>) {
  return
}

// -----

// Only the token dimension may be dynamic.
// expected-error @+1 {{only the token dimension (dim 0) may be dynamic in a CUDA launcher, not in 'tensor<4x?xf32>'}}
func.func @dynamic_experts(%z: tensor<4x?xf32>) {
  return
}

// -----

// Without moe ops nothing else bounds the sizes (found by moe-fuzz:
// test/Fuzz/regressions/configure-huge-copy.mlir).
// expected-error @+1 {{'func.func' op a launcher's tensor (?x3074457345618258603xf32) has more bytes than a 64-bit integer holds; the most a tensor may take is 281474976710656 bytes (2^48)}}
func.func @returns_argument(%z: tensor<?x3074457345618258603xf32>) -> tensor<?x3074457345618258603xf32> {
  return %z : tensor<?x3074457345618258603xf32>
}

// -----

// A size the kernels cannot take fails the pass at the moe op (found by
// moe-fuzz: test/Fuzz/regressions/configure-kernel-limit.mlir).
func.func @combine(%h: tensor<?x2xbf16>, %map: tensor<?x2xi32>, %w: tensor<?x2xf32>) -> tensor<?x2xbf16> {
  // expected-error @+1 {{'moegpu.combine' op a hidden size of 2 is not a multiple of the CUDA kernels' CombineElementsPerThread = 8}}
  %y = moe.combine %h, %map, %w : (tensor<?x2xbf16>, tensor<?x2xi32>, tensor<?x2xf32>) -> tensor<?x2xbf16>
  return %y : tensor<?x2xbf16>
}

// -----

// Launchers get new signatures: calls between functions have no lowering
// (found by moe-fuzz: test/Fuzz/regressions/configure-call.mlir).
func.func private @helper(tensor<4xf32>)
func.func @calls(%x: tensor<4xf32>) {
  // expected-error @+1 {{'func.call' op has no CUDA lowering: a module for the GPU holds launchers, which call no functions}}
  call @helper(%x) : (tensor<4xf32>) -> ()
  return
}

// -----

// An empty hidden size has no kernel grid (found by moe-fuzz:
// test/Fuzz/regressions/configure-empty-hidden.mlir; the split-K choice
// divided by zero column tiles).
// expected-error @+1 {{only the token dimension (dim 0) may be empty in a CUDA launcher, not in 'tensor<64x0xf32>'}}
func.func @empty_hidden(%rows: tensor<64x0xf32>, %offsets: tensor<257xi32>,
                        %gate_up: tensor<256x4096x0xf32>, %down: tensor<256x0x2048xf32>)
    -> tensor<64x0xf32> {
  %y = moe.expert_ffn %rows offsets %offsets weights %gate_up, %down
      : (tensor<64x0xf32>, tensor<257xi32>, tensor<256x4096x0xf32>, tensor<256x0x2048xf32>)
        -> tensor<64x0xf32>
  return %y : tensor<64x0xf32>
}

// -----

func.func @not_moe() -> tensor<2xf32> {
  %c = arith.constant dense<1.0> : tensor<2xf32>
  // expected-error @+1 {{result #0 is not computed by a moe op, nor an input or zeros (which the launcher copies or clears)}}
  return %c : tensor<2xf32>
}

// -----

// Negative zeros are not memset's zero bits.
func.func @negative_zeros() -> tensor<2xf32> {
  %c = arith.constant dense<-0.0> : tensor<2xf32>
  // expected-error @+1 {{result #0 is not computed by a moe op}}
  return %c : tensor<2xf32>
}

// -----

// Scores that something else reads have no kernel of their own.
func.func @shared_scores(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x8xf32>) {
  // expected-error @+1 {{'moe.score' op has no CUDA kernel of its own: it is computed by the routing kernel of the moe.route that reads it}}
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %s : tensor<?x2xi32>, tensor<?x8xf32>
}

// -----

// Losses that need different statistics (normalised and raw q) cannot
// share the routing kernel's.
func.func @incompatible(%z: tensor<?x8xf32>) -> (tensor<f32>, tensor<f32>) {
  // expected-error @+1 {{'moe.score' op has no CUDA kernel of its own}}
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  // expected-error @+1 {{'moe.balance_loss' op is not fused with a routing: the CUDA backend computes balance losses from the statistics of the routing kernel (losses whose scores come from a moe.score feeding a moe.route, with compatible statistics)}}
  %l1 = moe.balance_loss %s, %ids <sequence, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  // expected-error @+1 {{'moe.balance_loss' op is not fused with a routing}}
  %l2 = moe.balance_loss %s, %ids <expert, alpha = 0.1> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %l1, %l2 : tensor<f32>, tensor<f32>
}

// -----

// The routing kernel holds at most RouteMaxExperts experts.
func.func @many_experts(%z: tensor<?x1024xf32>) -> tensor<?x2xi32> {
  %s = moe.score sigmoid %z : tensor<?x1024xf32> -> tensor<?x1024xf32>
  // expected-error @+1 {{'moegpu.route' op 1024 experts exceeds the CUDA kernels' limit RouteMaxExperts = 512 (experts the warp-per-token routing kernel holds (16 scores per lane))}}
  %ids, %w = moe.route %s k = 2 : (tensor<?x1024xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids : tensor<?x2xi32>
}

// -----

// The quantisation kernel takes groups of 128 (DeepSeek's block).
func.func @quantize_group(%x: tensor<?x256xbf16>) -> (tensor<?x256xf8E4M3FN>, tensor<?x4xf32>) {
  // expected-error @+1 {{'moe.quantize' op has no CUDA lowering for groups of 64 (the kernel quantises groups of 128)}}
  %q, %s = moe.quantize %x group = 64 : tensor<?x256xbf16> -> tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
  return %q, %s : tensor<?x256xf8E4M3FN>, tensor<?x4xf32>
}

// -----

// e4m3 rows the kernel did not quantise itself cannot be permuted on the
// GPU: the permute's rows come from the quantisation that gathers them.
func.func @fp8_permute_of_arguments(%q: tensor<?x256xf8E4M3FN>, %s: tensor<?x2xf32>, %ids: tensor<?x2xi32>,
                                    %w: tensor<?x2xf32>) -> tensor<?x256xf8E4M3FN> {
  // expected-error @+1 {{'moe.permute' op has no CUDA lowering for e4m3 rows that are not the values of a moe.quantize with groups of 128 (the kernel quantises the rows it gathers)}}
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w
      : (tensor<?x256xf8E4M3FN>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<?x2xf32>)
        -> (tensor<?x256xf8E4M3FN>, tensor<?x2xi32>, tensor<9xi32>, tensor<?x2xf32>)
  return %rows : tensor<?x256xf8E4M3FN>
}
