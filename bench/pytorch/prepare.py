#!/usr/bin/env python3
"""Runs here (with libMoeCAPI.so): emits the CUDA sources the PyTorch tests
load on the GPU machine, which has no LLVM. For each case of
python/tests/test_pytorch.py, <case>.cu and <case>.h under <out-dir>; run
the tests there with MOE_MLIR_PREBUILT=<out-dir>.

    python3 bench/pytorch/prepare.py <out-dir>"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

from moe_mlir.ir import Module  # noqa: E402
from pytorch_cases import CASES, PIPELINES  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, text in CASES().items():
        m = Module(text, name=name)
        if name in PIPELINES:
            m.run(PIPELINES[name])
        with open(os.path.join(out, name + ".cu"), "w") as f:
            f.write(m.cuda())
        with open(os.path.join(out, name + ".h"), "w") as f:
            f.write(m.cuda_header())
    print(f"wrote {len(CASES())} cases to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "pytorch"))
