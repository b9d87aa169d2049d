"""The four balance losses and their gradients on the CPU against the NumPy
reference (float64), over configurations, seeds and sequence splits; the
gradients also against central finite differences of the loss with the
counts held fixed."""

import itertools
import zlib

import numpy as np
import pytest

import programs
import reference as ref

TOL = 1e-6


def cases():
    out = []
    for E, K, func in [(8, 2, "sigmoid"), (64, 6, "softmax"), (160, 6, "softmax"),
                       (256, 8, "sigmoid"), (384, 8, "sigmoid")]:
        for kind, counts, seq_len in itertools.product(
                ["sequence", "expert", "device", "comm"], ["selected", "topk"], [0, 4]):
            devices = 8 if kind in ("device", "comm") else 0
            limit = 3 if kind == "comm" else 0
            out.append((E, K, func, kind, counts, seq_len, devices, limit))
    return out


CASES = cases()


def case_id(c):
    E, K, func, kind, counts, seq_len, devices, limit = c
    return f"E{E}-K{K}-{func}-{kind}-{counts}-seq{seq_len or 'all'}"


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(float(np.max(np.abs(b))), 1e-30) if b.size else 1.0
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def make_inputs(rng, T, E, K, func):
    z = rng.normal(0, 1.5, size=(T, E)).astype(np.float32)
    s = ref.score(z, func)
    ids = np.stack([rng.permutation(E)[:K] for _ in range(T)]).astype(np.int32) \
        if T else np.zeros((0, K), np.int32)
    return z, s, ids


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_loss_and_gradient(case):
    E, K, func, kind, counts, seq_len, devices, limit = case
    alpha = 0.003
    prog = programs.loss_program(E, K, func, kind, alpha, counts, seq_len, devices, limit)
    rng = np.random.default_rng(zlib.crc32(case_id(case).encode()))
    cfg = dict(kind=kind, alpha=np.float32(alpha).item(), counts=counts,
               seq_len=seq_len, devices=devices, device_limit=limit)
    for T in ([4, 8, 12] if seq_len else [1, 7, 64]):
        _, s, ids = make_inputs(rng, T, E, K, func)
        loss = prog.run("loss", s, ids)
        assert abs(float(loss) - ref.balance_loss(s, ids, **cfg)) <= \
            TOL * abs(ref.balance_loss(s, ids, **cfg)) + 1e-12
        grad = prog.run("grad", s, ids)
        assert rel(grad, ref.balance_loss_grad(s, ids, func, **cfg)) <= 1e-5


@pytest.mark.parametrize("case", CASES[::5], ids=case_id)
def test_gradient_by_finite_differences(case):
    """dL/dz from the compiled gradient vs central differences of the
    reference loss (float64, counts frozen at the unperturbed point)."""
    E, K, func, kind, counts, seq_len, devices, limit = case
    alpha = 0.5
    prog = programs.loss_program(E, K, func, kind, alpha, counts, seq_len, devices, limit)
    rng = np.random.default_rng(5)
    T = 8 if seq_len else 5
    z, s, ids = make_inputs(rng, T, E, K, func)
    frozen = ref.loss_weights_per_sequence(s, ids, kind, counts, seq_len, devices, limit)
    cfg = dict(kind=kind, alpha=alpha, counts=counts, seq_len=seq_len,
               devices=devices, device_limit=limit, weights=frozen)

    def loss_of(zz):
        zz = np.asarray(zz, np.float64)
        if func == "sigmoid":
            ss = 1 / (1 + np.exp(-zz))
        else:
            e = np.exp(zz - zz.max(axis=1, keepdims=True))
            ss = e / e.sum(axis=1, keepdims=True)
        return ref.balance_loss(ss, ids, **cfg)

    grad = prog.run("grad", s, ids)
    h = 1e-5
    z64 = z.astype(np.float64)
    for t, i in [(0, 0), (T - 1, E - 1), (T // 2, E // 3), (1, int(ids[1, 0]))]:
        zp, zm = z64.copy(), z64.copy()
        zp[t, i] += h
        zm[t, i] -= h
        fd = (loss_of(zp) - loss_of(zm)) / (2 * h)
        scale = max(float(np.max(np.abs(grad))), 1e-12)
        assert abs(grad[t, i] - fd) <= 1e-5 * scale, (t, i, grad[t, i], fd)


def test_empty_batch_gives_zero_loss():
    prog = programs.loss_program(8, 2, "sigmoid", "sequence", 1.0, "topk", 0, 0, 0)
    s = np.zeros((0, 8), np.float32)
    ids = np.zeros((0, 2), np.int32)
    assert float(prog.run("loss", s, ids)) == 0.0
    assert prog.run("grad", s, ids).shape == (0, 8)


def test_uniform_routing_gives_alpha():
    """Perfectly balanced routing: f_i = 1 and sum P = 1, so L = alpha."""
    prog = programs.loss_program(4, 1, "softmax", "expert", 0.25, "selected", 0, 0, 0)
    s = np.full((4, 4), 0.25, np.float32)
    ids = np.arange(4, dtype=np.int32).reshape(4, 1)
    assert float(prog.run("loss", s, ids)) == pytest.approx(0.25, rel=1e-7)


def test_experts_without_tokens():
    """Experts nobody chose have f = 0 and contribute nothing."""
    prog = programs.loss_program(8, 2, "sigmoid", "expert", 1.0, "selected", 0, 0, 0)
    rng = np.random.default_rng(2)
    s = ref.sigmoid(rng.normal(size=(6, 8)))
    ids = np.tile(np.array([[0, 1]], np.int32), (6, 1))
    expected = ref.balance_loss(s, ids, "expert", 1.0)
    assert float(prog.run("loss", s, ids)) == pytest.approx(expected, rel=1e-6)


def test_bias_update_matches_reference():
    src = """
    func.func @update(%b: tensor<64xf32>, %c: tensor<64xi32>) -> tensor<64xf32> {
      %r = moe.bias_update %b, %c rate = 1.0e-3 : tensor<64xf32>, tensor<64xi32>
      return %r : tensor<64xf32>
    }"""
    from moe_mlir.cpu import CPUProgram
    prog = CPUProgram(src)
    rng = np.random.default_rng(9)
    for _ in range(5):
        b = rng.normal(0, 0.01, 64).astype(np.float32)
        c = rng.integers(0, 50, 64).astype(np.int32)
        c[:8] = int(round(c.mean()))  # some exactly at (or near) the mean
        out = prog.run("update", b, c)
        np.testing.assert_array_equal(out, ref.bias_update(b, c, 1e-3))
