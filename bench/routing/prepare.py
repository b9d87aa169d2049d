#!/usr/bin/env python3
"""Runs here (with the moe-mlir build): emits the CUDA source, header and
launcher manifest of bench/routing/routing.mlir and records CPU-reference
cases (inputs and the compiled CPU path's outputs) for the GPU check.

    python3 bench/routing/prepare.py <out-dir>"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from configs import CONFIGS, bf16_round  # noqa: E402
from prepare_common import emit, save_cases  # noqa: E402

TOKENS = [1, 7, 64, 1024]


def main(out):
    prog = emit("routing", out)
    rng = np.random.default_rng(20261122)
    cases = {}
    for name, (dtype, E, K, *_rest) in CONFIGS.items():
        has_bias = _rest[4]
        for T in TOKENS:
            z = rng.normal(0.0, 2.0, size=(T, E)).astype(np.float32)
            if dtype == "bf16":
                z = bf16_round(z)
            args = [z]
            b = rng.normal(0.0, 0.05, size=E).astype(np.float32) if has_bias else None
            if has_bias:
                args.append(b)
            outs = prog.run(name, *args)
            key = f"{name}/T{T}"
            cases[key + "/logits"] = z
            if has_bias:
                cases[key + "/bias"] = b
            cases[key + "/ids"] = outs[0]
            cases[key + "/weights"] = outs[1]
            if len(outs) > 2:
                cases[key + "/counts"] = outs[2]
    save_cases(out, "routing", cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "routing"))
