"""Router-logit precision (moe.gate's result type, moe.layer's `logits`):
Qwen2/3-MoE and Mixtral round the router's f32 sums to bf16 before the f32
softmax, DeepSeek keeps them in f32. The CPU lowering against NumPy: the
bf16 logits are the f32 sums (h ascending) rounded once to nearest even,
bit for bit; routing from them matches the reference; and the precision
changes real choices, so it cannot be left to a backend."""

import numpy as np
import pytest

import reference as ref
from moe_mlir.cpu import CPUProgram

T, H, E, K = 400, 256, 64, 4
F32 = np.float32


def source(logits):
    gate = f"tensor<?x{E}x{logits}>"
    return f"""
func.func @gate(%x: tensor<?x{H}xbf16>, %w: tensor<{E}x{H}xbf16>) -> {gate} {{
  %z = moe.gate %x, %w : tensor<?x{H}xbf16>, tensor<{E}x{H}xbf16> -> {gate}
  return %z : {gate}
}}
func.func @route(%x: tensor<?x{H}xbf16>, %w: tensor<{E}x{H}xbf16>)
    -> (tensor<?x{K}xi32>, tensor<?x{K}xf32>) {{
  %z = moe.gate %x, %w : tensor<?x{H}xbf16>, tensor<{E}x{H}xbf16> -> {gate}
  %s = moe.score softmax %z : {gate} -> tensor<?x{E}xf32>
  %ids, %p = moe.route %s k = {K} normalize : (tensor<?x{E}xf32>) -> (tensor<?x{K}xi32>, tensor<?x{K}xf32>)
  return %ids, %p : tensor<?x{K}xi32>, tensor<?x{K}xf32>
}}
"""


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    x = ref.f32_to_bf16_bits(rng.standard_normal((T, H)).astype(F32))
    w = ref.f32_to_bf16_bits((rng.standard_normal((E, H)) * 0.05).astype(F32))
    xf, wf = ref.bf16_bits_to_f32(x), ref.bf16_bits_to_f32(w)
    # The f32 sums in the reference order (bf16 products are exact in f32).
    z = np.zeros((T, E), F32)
    for h in range(H):
        z = (z + xf[:, h, None] * wf[None, :, h]).astype(F32)
    return x, w, z


@pytest.fixture(scope="module")
def programs():
    return {p: CPUProgram(source(p), name=f"logits-{p}") for p in ("f32", "bf16")}


def test_bf16_logits_are_the_rounded_f32_sums(data, programs):
    x, w, z = data
    got = programs["bf16"].run("gate", x, w)  # bf16 results come back as f32
    assert got.shape == (T, E)
    want = ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(z))
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert not np.array_equal(want, z)  # the rounding did something
    exact = programs["f32"].run("gate", x, w)
    assert np.array_equal(exact.view(np.uint32), z.view(np.uint32))


@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_routing_from_each_precision_matches_the_reference(data, programs, precision):
    x, w, z = data
    logits = z if precision == "f32" else ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(z))
    want_ids, want_w, _, _ = ref.route(ref.softmax(logits), K, normalize=True)
    ids, weights = programs[precision].run("route", x, w)
    assert np.array_equal(ids, want_ids)
    np.testing.assert_allclose(weights, want_w, rtol=1e-6, atol=0)


def test_the_precision_changes_choices(data, programs):
    x, w, _ = data
    ids32, _ = programs["f32"].run("route", x, w)
    ids16, _ = programs["bf16"].run("route", x, w)
    changed = np.any(np.sort(ids32, axis=1) != np.sort(ids16, axis=1), axis=1)
    # bf16 keeps 8 bits of each logit: close runners-up swap places.
    assert 0 < changed.sum() < T // 2, changed.sum()
