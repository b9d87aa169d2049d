// The topology from the pass options, for routes without one.
// RUN: moe-opt %s --moe-plan-dispatch="nodes=4 gpus-per-node=2 node-limit=2" --verify-diagnostics | FileCheck %s
// RUN: not moe-opt %s --moe-plan-dispatch="nodes=4 gpus-per-node=2 node-limit=1" 2>&1 | FileCheck %s --check-prefix=LIMIT
// RUN: not moe-opt %s --moe-plan-dispatch="nodes=3 gpus-per-node=2" 2>&1 | FileCheck %s --check-prefix=PLACE
// RUN: not moe-opt %s --moe-plan-dispatch="nodes=4 gpus-per-node=2 node-limit=5" 2>&1 | FileCheck %s --check-prefix=RANGE

// CHECK-LABEL: func.func @options
// CHECK: moe.dispatch_layout %{{.*}} topology <nodes = 4, gpus_per_node = 2, experts_per_gpu = 4, node_limit = 2> : tensor<?x4xi32> -> tensor<32xi32>, tensor<8xi32>, tensor<4xi32>, tensor<?x8xi1>
// LIMIT: error: 'moe.route' op does not guarantee the topology's node_limit (1): a token may reach 2 of the 4 nodes
// PLACE: error: 'moe.route' op moe-plan-dispatch options place 32 experts on 3 nodes x 2 GPUs: gpus-per-node must be positive and the ranks must divide the experts
// RANGE: error: 'moe.route' op moe-plan-dispatch option node-limit (5) must be in [0, 4]
func.func @options(%s: tensor<?x32xf32>) -> tensor<?x4xi32> {
  // expected-remark @+1 {{dispatch plan on 4 nodes x 2 GPUs x 4 experts: a token reaches at most 2 nodes (group_topk = 2 of 4 groups, 1 per node) and 4 GPUs; per token it sends 2 rows to nodes with the limit, 4 rows node-deduplicated without it, 4 rows once per expert}}
  %ids, %w = moe.route %s k = 4 groups = 4 group_topk = 2 : (tensor<?x32xf32>) -> (tensor<?x4xi32>, tensor<?x4xf32>)
  return %ids : tensor<?x4xi32>
}
