#!/usr/bin/env python3
"""Runs here (with the moe-mlir build): emits the CUDA source, header and
launcher manifest of bench/layer/layer.mlir and records CPU-reference cases
of the small layer (the compiled CPU lowering) for the GPU check.

    python3 bench/layer/prepare.py <out-dir>"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import reference as ref  # noqa: E402
from prepare_common import emit, save_cases  # noqa: E402

SMALL = dict(E=64, K=6, H=256, I=128, Is=128)


def small_weights(rng):
    """bf16 bits of the small layer's weights (router, bias f32, experts)."""
    E, H, I, Is = SMALL["E"], SMALL["H"], SMALL["I"], SMALL["Is"]
    bits = lambda shape, scale: ref.f32_to_bf16_bits(
        (rng.standard_normal(shape) * scale).astype(np.float32))
    return [bits((E, H), 0.1), (rng.standard_normal(E) * 0.05).astype(np.float32),
            bits((E, 2 * I, H), 0.06), bits((E, H, I), 0.09),
            bits((1, 2 * Is, H), 0.06), bits((1, H, Is), 0.09)]


def main(out):
    prog = emit("layer", out)
    rng = np.random.default_rng(11222028)
    weights = small_weights(rng)
    cases = {f"w{i}": w for i, w in enumerate(weights)}
    for T in (1, 7, 100):
        x = ref.f32_to_bf16_bits(rng.standard_normal((T, SMALL["H"])).astype(np.float32))
        y = prog.run("small_layer", x, *weights)
        cases[f"T{T}/x"] = x
        cases[f"T{T}/y"] = ref.f32_to_bf16_bits(y)
    save_cases(out, "layer", cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "layer"))
