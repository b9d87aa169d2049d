#!/usr/bin/env python3
"""Runs here (with the moe-mlir build): emits the CUDA source, header and
launcher manifest of bench/dispatch/dispatch.mlir and records CPU-reference
cases (the compiled CPU lowering on the H = 64 functions) for the GPU check.

    python3 bench/dispatch/prepare.py <out-dir>"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from inputs import make_case  # noqa: E402
from prepare_common import emit, save_cases  # noqa: E402

# (function, token counts); every case in both distributions.
CPU_CASES = [("layout", [1, 7, 300]), ("permute_h64", [1, 7, 300]),
             ("permute_probs_h64", [1, 7, 300, 2048]),
             ("permute_position_h64", [1, 7, 300]),
             ("combine_h64", [1, 7, 300]), ("combine_noshared_h64", [7])]


def main(out):
    prog = emit("dispatch", out)
    rng = np.random.default_rng(11222027)
    cases = {}
    for name, tokens in CPU_CASES:
        for T in tokens:
            for dist in ("uniform", "skewed"):
                ids, w, x, rows, sh = make_case(rng, T, 64, dist)
                if name == "layout":
                    args = [ids]
                elif name.startswith("permute"):
                    args = [x, ids, w]
                else:
                    # A permuted batch's row map, then random expert outputs.
                    _, row_map, _ = prog.run("permute_probs_h64", x, ids, w)
                    args = [rows, row_map, w] + ([sh] if "noshared" not in name else [])
                outs = prog.run(name, *args, check_dynamic=False)
                key = f"{name}/{dist}/T{T}"
                for i, a in enumerate(args):
                    cases[f"{key}/in{i}"] = a
                for i, o in enumerate(outs if isinstance(outs, (list, tuple)) else [outs]):
                    cases[f"{key}/out{i}"] = o
    save_cases(out, "dispatch", cases)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "dispatch"))
