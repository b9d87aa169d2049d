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

    The layer's `topology` is checked by the layer verifier and is not needed
    by the primitive ops.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

def MoeFuseRouting : Pass<"moe-fuse-routing"> {
  let summary = "Fuse score, route and the routed token counts into one op";
  let description = [{
    `moe.score` → `moe.route` becomes one `moe.fused_route` that reads the
    logits once; a `moe.expert_counts` of the routed ids becomes the fused
    op's `counts` result (the per-expert loads the bias update consumes), so
    it costs no extra pass either. A score whose scores are also used
    elsewhere stays (the route then fuses on its own, reading the scores).
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

#endif // MOE_DIALECT_MOE_TRANSFORMS_PASSES_TD
