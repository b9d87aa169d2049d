"""The moe modules test_pytorch.py runs: their configs and MLIR text (shared
with bench/pytorch/prepare.py, which emits them for the GPU machine)."""

import os

from moe_mlir.config import FIELDS, LayerConfig

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def v3():
    return LayerConfig.from_hf(os.path.join(ROOT, "examples", "hf", "deepseek-v3.json"),
                               name="v3")


def v2():
    return LayerConfig.from_hf(os.path.join(ROOT, "examples", "hf", "deepseek-v2.json"),
                               name="v2")


def small():
    """A small layer of the V3 kind that a PyTorch reference checks quickly."""
    return LayerConfig(experts=64, k=6, hidden=256, intermediate=128, groups=8, group_topk=4,
                       group_score="topk_sum<2>", score="sigmoid", bias=True, normalize=True,
                       scale=2.5, shared_intermediate=128, aux_loss_alpha=1e-3, name="small")


def small_fp8():
    """The small layer with FP8 experts (e4m3 weights, 128 x 128 block
    scales; x quantised per token and 128 inside the layer)."""
    c = small()
    return LayerConfig(**{**{f: getattr(c, f) for f in FIELDS}, "fp8": True,
                          "name": "small_fp8"})


SEQ = 512


def CASES():
    return {
        "v3_route": v3().routing_mlir(),
        "v3_train": v3().router_training_mlir(seq_len=SEQ),
        "v2_train": v2().router_training_mlir(seq_len=SEQ),
        "small_layer": small().layer_mlir(),
        "small_layer_fused": small().layer_mlir(),
        "small_fp8_layer": small_fp8().layer_mlir(),
    }


# Cases whose expert GEMMs gather the permuted rows themselves.
FUSE_GATHER = {"small_layer_fused"}


def pipeline(name, target):
    """The lowering of case `name` for a moegpu target ("sm_90a", "sm_80"):
    moe_mlir.pytorch.lowering_pipeline, spelt out here because
    bench/pytorch/prepare.py runs without PyTorch."""
    options = f"target={target}" + (" fuse-gather=true" if name in FUSE_GATHER else "")
    return f"moe-lower-to-cuda{{{options}}}"
