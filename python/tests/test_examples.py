"""The training-step examples run on the CPU reference and agree with the
NumPy reference."""

import os

import numpy as np
import pytest

import reference as ref
from moe_mlir.cpu import CPUProgram

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def load(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return CPUProgram(f.read(), name=name)


def test_deepseek_v3_train_step():
    prog = load("deepseek-v3-train.mlir")
    rng = np.random.default_rng(3)
    z = ref.resample_topk_near_ties(rng.normal(0, 2, size=(4096, 256)).astype(np.float32),
                                    "sigmoid", 8, rng)
    b = rng.normal(0, 0.05, size=256).astype(np.float32)
    ids, w, loss, grad, nb = prog.run("deepseek_v3_router_train", z, b)
    s = ref.score(z, "sigmoid")
    rids, rw, _, _ = ref.route_vectorized(s, 8, b, 8, 4, ("topk_sum", 2), True, 2.5)
    np.testing.assert_array_equal(ids, rids)
    np.testing.assert_allclose(w, rw, rtol=1e-6)
    cfg = dict(kind="sequence", alpha=float(np.float32(1e-4)), counts="topk", seq_len=4096)
    assert float(loss) == pytest.approx(ref.balance_loss(s, ids, **cfg), rel=1e-6)
    want = ref.balance_loss_grad(s, ids, "sigmoid", **cfg)
    assert np.max(np.abs(grad - want)) <= 1e-6 * np.max(np.abs(want))
    np.testing.assert_array_equal(nb, ref.bias_update(b, ref.expert_counts(ids, 256), 1e-3))


def test_deepseek_v2_train_step():
    prog = load("deepseek-v2-train.mlir")
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, size=(4096, 160)).astype(np.float32)
    ids, w, l1, l2, l3, g1, g2, g3 = prog.run("deepseek_v2_router_train", z)
    s = ref.score(z, "softmax")
    for got, cfg in [(l1, dict(kind="expert", alpha=0.003)),
                     (l2, dict(kind="device", alpha=0.05, devices=8)),
                     (l3, dict(kind="comm", alpha=0.02, devices=8, device_limit=3))]:
        cfg["alpha"] = float(np.float32(cfg["alpha"]))
        assert float(got) == pytest.approx(ref.balance_loss(s, ids, seq_len=4096, **cfg), rel=1e-6)
    want = ref.balance_loss_grad(s, ids, "softmax", kind="comm", alpha=float(np.float32(0.02)),
                                 seq_len=4096, devices=8, device_limit=3)
    assert np.max(np.abs(g3 - want)) <= 1e-5 * np.max(np.abs(want))
