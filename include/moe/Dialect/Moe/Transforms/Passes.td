//===- Passes.td - moe dialect transformation passes -------*- tablegen -*-===//

#ifndef MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
#define MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MoeExpandLayer : Pass<"moe-expand-layer"> {
  let summary = "Rewrite moe.layer into the primitive moe ops";
  let description = [{
    Replaces every `moe.layer` by the ops its attributes describe:

    ```
    z          = moe.gate x, router
    s          = moe.score <score_func> z
    ids, w     = moe.route s [bias] k groups group_topk group_score normalize scale
    loss_i     = moe.balance_loss s, ids <losses[i]>        (one per loss)
    rows, map, offsets = moe.permute x, ids, w [capacity_factor drop]
    h          = moe.expert_ffn rows offsets weights gate_up, down
    sh         = moe.expert_ffn x weights shared_gate_up, shared_down   (if any)
    y          = moe.combine h, map, w [shared sh]
    ```

    The layer's `topology` is checked by the layer verifier; it travels on
    the `moe.route` as the discardable attribute `moe.topology`, where
    `moe-plan-dispatch` finds it.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

def MoePlanDispatch : Pass<"moe-plan-dispatch", "::mlir::ModuleOp"> {
  let summary = "Check node-limited routing and plan the dispatch of each routing";
  let description = [{
    For every `moe.route` with a topology (its `moe.topology` attribute, set
    by `moe-expand-layer` from the layer, or else the `nodes` and
    `gpus-per-node` options, with `experts_per_gpu` = E / ranks):

    * checks that the topology holds the routing's experts and that the
      routing guarantees the topology's `node_limit`: groups must lie inside
      nodes (`groups` a multiple of `nodes`) and `group_topk` must not
      exceed the limit; anything else is an error at the route;
    * inserts `moe.dispatch_layout` of the routed ids after the route
      (unless one with that topology is already there): the per-expert,
      per-rank and per-node send counts, each token counted once per rank
      and once per node, and the send mask. With `return-layout` the counts
      and the mask are appended to the function's results, for the caller's
      all-to-all;
    * reports the planned traffic as a remark on the route: the most nodes
      and ranks a token reaches, and the rows (and bytes, when a
      `moe.permute` of the ids gives the row size) a token sends to nodes
      node-deduplicated under the routing's limit, node-deduplicated without
      a limit, and once per expert (no deduplication), per token and, for a
      static batch, in total.
  }];
  let options = [
    Option<"nodes", "nodes", "int64_t", "0",
           "nodes of the cluster, for routes without a moe.topology attribute">,
    Option<"gpusPerNode", "gpus-per-node", "int64_t", "0",
           "GPUs (ranks) per node, with `nodes`">,
    Option<"nodeLimit", "node-limit", "int64_t", "0",
           "most nodes a token may reach (0: no limit), with `nodes`">,
    Option<"returnLayout", "return-layout", "bool", "false",
           "append the dispatch layout's results to the function's results">
  ];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

#endif // MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
