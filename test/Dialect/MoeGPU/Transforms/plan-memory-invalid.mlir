// RUN: moe-opt %s --split-input-file --moegpu-plan-memory --verify-diagnostics
// RUN: not moe-opt %s --split-input-file --moegpu-plan-memory=reference-tokens=-1 2>&1 | FileCheck %s
// CHECK: error: reference-tokens must not be negative

// A function without the launcher ABI of moegpu-configure.
// expected-error @+1 {{is not a launcher (no num_tokens argument): run moegpu-configure first}}
func.func @plain(%a: memref<4xf32>) {
  return
}

// -----

// Results must be the output arguments the kernels wrote.
func.func @returns_alloc(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  // expected-error @+1 {{'func.return' op result #0 is not written into an output argument: run one-shot-bufferize with function boundaries on the configured launcher}}
  return %a : memref<4xf32>
}

// -----

// The plan covers straight-line launchers.
func.func @nested(%c: i1, %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  scf.if %c {
    // expected-error @+1 {{'memref.alloc' op is not in the launcher's body: the workspace plan covers straight-line launchers only}}
    %a = memref.alloc() : memref<4xf32>
  }
  return
}

// -----

// Sizes are computed from num_tokens alone.
func.func @foreign_size(%m: memref<?xf32> {moegpu.param = #moegpu.param<input, "m", rows = affine_map<()[s0] -> (s0)>>},
                        %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  %c0 = arith.constant 0 : index
  %d = memref.dim %m, %c0 : memref<?xf32>
  // expected-error @+1 {{'memref.alloc' op has a size that is not computed from num_tokens alone}}
  %a = memref.alloc(%d) : memref<?xf32>
  return
}

// -----

// Sizes are the index arithmetic of moegpu-configure (+ - * / ceildiv min
// max select and comparisons), which the plan evaluates and the manifest
// states.
func.func @shifted_size(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  %c1 = arith.constant 1 : index
  %s = arith.shli %n, %c1 : index
  // expected-error @+1 {{'memref.alloc' op has a size the plan cannot evaluate}}
  %a = memref.alloc(%s) : memref<?xf32>
  return
}

// -----

// A hand-bufferized buffer is bounded like a tensor (found by moe-fuzz:
// test/Fuzz/regressions/plan-memory-huge-alloc.mlir; its bytes overflowed).
func.func @huge(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  // expected-error @+1 {{'memref.alloc' op a workspace buffer (9223372036854775807xf32) has more bytes than a 64-bit integer holds; the most a tensor may take is 281474976710656 bytes (2^48)}}
  %a = memref.alloc() : memref<9223372036854775807xf32>
  return
}
