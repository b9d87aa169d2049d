// RUN: moe-opt %s --split-input-file --convert-moegpu-to-emitc --verify-diagnostics

// A launcher's results are written into its output arguments.
// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher returns nothing: run moegpu-plan-memory first}}
func.func @returns(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) -> index {
  return %n : index
}

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{argument #0 has no moegpu.param: run moegpu-configure first}}
func.func @no_abi(%x: memref<4xf32>) {
  return
}

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{argument #0 must be a memref (bufferize the launcher first), not 'tensor<4xf32>'}}
func.func @tensors(%x: tensor<4xf32> {moegpu.param = #moegpu.param<input, "x">},
                   %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  return
}

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher gets its stream parameter here}}
func.func @stream(%s: index {moegpu.param = #moegpu.param<stream, "stream">}) {
  return
}

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher with a workspace has a plan: run moegpu-plan-memory}}
func.func @unplanned(%ws: memref<?xi8> {moegpu.param = #moegpu.param<workspace, "workspace">},
                     %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
    attributes {moegpu.max_tokens = 100 : i64} {
  return
}

// -----

// A free token count needs the bound the memory plan derives.
// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher with a dynamic token count has a bound ('moegpu.max_tokens'): run moegpu-plan-memory}}
func.func @unbounded(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) {
  return
}

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a workspace-size function maps num_tokens to bytes}}
func.func @bad_size(%a: index, %b: index) -> index attributes {moegpu.workspace_size_of = @launcher} {
  return %a : index
}
func.func private @launcher()

// -----

// Kernel ops are converted on buffers.
func.func @unbufferized(%offsets: memref<9xi32> {moegpu.param = #moegpu.param<input, "offsets">},
                        %n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">})
    attributes {moegpu.max_tokens = 100 : i64} {
  %off = bufferization.to_tensor %offsets : memref<9xi32> to tensor<9xi32>
  %e = tensor.empty() : tensor<2x4xi32>
  // expected-error @+2 {{failed to legalize operation 'moegpu.tile_map' that was explicitly marked illegal}}
  // expected-error @+1 {{'moegpu.tile_map' op is not bufferized: run one-shot-bufferize and moegpu-plan-memory first}}
  %t = moegpu.tile_map offsets %off experts = 8 row_tile = 128 chunk = 8 rows(%n) outs(%e : tensor<2x4xi32>) : tensor<9xi32> -> tensor<2x4xi32>
  return
}

// -----

// A declaration has no body to become a launcher (found by moe-fuzz:
// test/Fuzz/regressions/emitc-declaration.mlir).
// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher has a body; a declaration is not one (moegpu input holds launchers only)}}
func.func private @printMemrefF32(memref<*xf32>)

// -----

// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a launcher has one num_tokens parameter and at most one workspace, not 0 and 0}}
func.func @no_tokens(%x: memref<4xf32> {moegpu.param = #moegpu.param<input, "x">}) {
  return
}

// -----

func.func @l(%n: index {moegpu.param = #moegpu.param<num_tokens, "num_tokens">}) attributes {moegpu.static_tokens = 4 : i64} {
  return
}
// expected-error @+2 {{failed to legalize operation 'func.func' that was explicitly marked illegal}}
// expected-error @+1 {{a workspace-size function maps num_tokens to bytes}}
func.func private @l_workspace_size(index) -> index attributes {moegpu.workspace_size_of = @l}
