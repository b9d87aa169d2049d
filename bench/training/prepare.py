#!/usr/bin/env python3
"""Runs here (with the moe-mlir build): emits the CUDA source, header and
launcher manifest of bench/training/training.mlir and records CPU-reference
cases for the GPU check.

    python3 bench/training/prepare.py <out-dir>"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import reference as ref  # noqa: E402
from configs import CPU_CASES, FUNCTIONS  # noqa: E402
from prepare_common import emit, save_cases  # noqa: E402


def main(out):
    prog = emit("training", out)
    rng = np.random.default_rng(11222026)
    cases = {}
    for name, tokens in CPU_CASES.items():
        route, losses = FUNCTIONS[name][0], FUNCTIONS[name][1]
        for T in tokens:
            z = rng.normal(0.0, 2.0, size=(T, route["E"])).astype(np.float32)
            if any(l.get("counts") == "topk" for l in losses):
                z = ref.resample_topk_near_ties(z, route["func"], route["K"], rng)
            args = [z]
            if route["bias"]:
                args.append(rng.normal(0.0, 0.05, size=route["E"]).astype(np.float32))
            outs = prog.run(name, *args)
            key = f"{name}/T{T}"
            for i, a in enumerate(args):
                cases[f"{key}/in{i}"] = a
            for i, o in enumerate(outs):
                cases[f"{key}/out{i}"] = o
    save_cases(out, "training", cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "training"))
