// RUN: moe-opt %s --split-input-file --moe-plan-dispatch="return-layout=true" --verify-diagnostics

// return-layout appends the layout to the function's results, which would
// break its calls (found by moe-fuzz:
// test/Fuzz/regressions/plan-dispatch-called.mlir).
// expected-error @+1 {{'func.func' op return-layout appends results to a function that is referenced: return the layout from an entry point}}
func.func @route(%s: tensor<4x8xf32>) {
  // expected-remark @+1 {{dispatch plan on 2 nodes x 2 GPUs x 2 experts}}
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return
}

func.func @main(%s: tensor<4x8xf32>) {
  // expected-note @+1 {{used here}}
  call @route(%s) : (tensor<4x8xf32>) -> ()
  return
}

// -----

// The layout is returned by the one func.return of the function.
// expected-error @+1 {{'func.func' op return-layout needs a function with one block}}
func.func @blocks(%s: tensor<4x8xf32>, %c: i1) {
  // expected-remark @+1 {{dispatch plan on 2 nodes x 2 GPUs x 2 experts}}
  %ids, %w = moe.route %s k = 2
      {moe.topology = #moe.topology<nodes = 2, gpus_per_node = 2, experts_per_gpu = 2>}
      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  cf.cond_br %c, ^a, ^b
^a:
  return
^b:
  return
}
