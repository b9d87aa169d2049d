"""Routing and loss configurations of bench/training/training.mlir."""

V3_ROUTE = dict(E=256, K=8, groups=8, group_topk=4, group_score=("topk_sum", 2),
                func="sigmoid", bias=True, normalize=True, scale=2.5)
V2_ROUTE = dict(E=160, K=6, groups=8, group_topk=3, group_score=("max", 1),
                func="softmax", bias=False, normalize=False, scale=16.0)

V3_LOSS = lambda seq, counts="topk": [dict(kind="sequence", alpha=1e-4, counts=counts, seq_len=seq)]
V2_LOSSES = lambda seq: [
    dict(kind="expert", alpha=0.003, seq_len=seq),
    dict(kind="device", alpha=0.05, seq_len=seq, devices=8),
    dict(kind="comm", alpha=0.02, seq_len=seq, devices=8, device_limit=3),
]

# name: (route, losses, outputs: kinds in result order, seq_len, grads?)
FUNCTIONS = {
    "v3_step": (V3_ROUTE, V3_LOSS(4096), ["ids", "weights", "loss0", "grad0", "bias"], 4096),
    "v3_step_batch": (V3_ROUTE, V3_LOSS(0), ["ids", "weights", "loss0", "grad0", "bias"], 0),
    "v3_step_selected": (V3_ROUTE, V3_LOSS(4096, "selected"),
                         ["ids", "weights", "loss0", "grad0", "bias"], 4096),
    "v3_step_nograd": (V3_ROUTE, V3_LOSS(4096), ["ids", "weights", "loss0", "bias"], 4096),
    "v2_step": (V2_ROUTE, V2_LOSSES(4096),
                ["ids", "weights", "loss0", "loss1", "loss2", "grad0", "grad1", "grad2"], 4096),
    "v2_step_batch": (V2_ROUTE, V2_LOSSES(0),
                      ["ids", "weights", "loss0", "loss1", "loss2", "grad0", "grad1", "grad2"], 0),
    "v3_route_counts": (V3_ROUTE, [], ["ids", "weights", "counts"], 0),
}

# Token counts checked against the compiled CPU reference (kept small: the
# cases travel to the GPU machine).
CPU_CASES = {
    "v3_step": [8192], "v3_step_batch": [1, 7, 300], "v3_step_selected": [4096],
    "v2_step": [4096], "v2_step_batch": [1, 7, 300],
}
