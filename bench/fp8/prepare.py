#!/usr/bin/env python3
"""Runs here (with the moe-mlir build): emits the CUDA source, header and
launcher manifest of bench/fp8/fp8.mlir and records CPU-reference cases of
its small functions for bench/fp8/layer.py on the GPU.

    python3 bench/fp8/prepare.py [<out-dir>]      (default .bench/fp8)"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import reference as ref  # noqa: E402
from prepare_common import emit, save_cases  # noqa: E402

E, K, H, I, Is = 8, 2, 256, 128, 256


def codes(rng, shape):
    """Finite e4m3 codes (0x7F / 0xFF, NaN, left out)."""
    c = rng.integers(0, 256, size=shape).astype(np.uint8)
    return np.where((c & 0x7F) == 0x7F, c ^ 1, c).astype(np.uint8)


def scales(rng, shape):
    return (rng.uniform(1, 2, size=shape) * 2.0 ** rng.integers(-13, -9, size=shape)).astype(
        np.float32)


def rows(rng, T):
    """bf16 bits of rows whose groups span many magnitudes, with a zero, a
    NaN and an infinite group."""
    x = rng.standard_normal((T, H)) * 2.0 ** rng.integers(-20, 10, size=(T, H // 128, 1)).repeat(
        128, axis=2).reshape(T, H)
    x = x.astype(np.float32)
    x[0, :128] = 0.0
    if T > 2:
        x[1, 3] = np.nan
        x[2, 200] = -np.inf
    return ref.f32_to_bf16_bits(x)


def main(out):
    prog = emit("fp8", out)
    rng = np.random.default_rng(20261203)
    weights = [ref.f32_to_bf16_bits((rng.standard_normal((E, H)) * 0.1).astype(np.float32)),
               (rng.standard_normal(E) * 0.05).astype(np.float32),
               codes(rng, (E, 2 * I, H)), codes(rng, (E, H, I)),
               scales(rng, (E, 2 * I // 128, H // 128)), scales(rng, (E, H // 128, I // 128)),
               codes(rng, (1, 2 * Is, H)), codes(rng, (1, H, Is)),
               scales(rng, (1, 2 * Is // 128, H // 128)), scales(rng, (1, H // 128, Is // 128))]
    cases = {f"w{i}": w for i, w in enumerate(weights)}
    for T in (1, 7, 100, 333):
        x = rows(rng, T)
        q, s = prog.run("small_quantize", x)
        cases.update({f"q{T}/x": x, f"q{T}/values": q, f"q{T}/scales": s})
        ids = rng.integers(-1, E, size=(T, K)).astype(np.int32)
        w = rng.uniform(size=(T, K)).astype(np.float32)
        pr, ps, pm, po = prog.run("small_permute", x, ids, w, check_dynamic=False)
        cases.update({f"p{T}/ids": ids, f"p{T}/w": w, f"p{T}/rows": pr, f"p{T}/scales": ps,
                      f"p{T}/map": pm, f"p{T}/offsets": po})
        # The layer on finite rows.
        xl = ref.f32_to_bf16_bits(rng.standard_normal((T, H)).astype(np.float32))
        y = prog.run("small_layer", xl, *weights)
        cases.update({f"l{T}/x": xl, f"l{T}/y": ref.f32_to_bf16_bits(y)})
    save_cases(out, "fp8", cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "fp8"))
