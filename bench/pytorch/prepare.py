#!/usr/bin/env python3
"""Runs here (with libMoeCAPI.so): emits the CUDA sources the PyTorch tests
load on the GPU machine, which has no LLVM. For each case of
python/tests/test_pytorch.py, <case>.cu, its launcher manifest <case>.json
(what the tests load) and the header <case>.h under <out-dir>, lowered for
<target> (default sm_90a, the GPU machine's H200); run the tests there with
MOE_MLIR_PREBUILT=<out-dir>.

    python3 bench/pytorch/prepare.py <out-dir> [<target>]"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

from moe_mlir.ir import Module  # noqa: E402
from pytorch_cases import CASES, pipeline  # noqa: E402


def main(out, target="sm_90a"):
    os.makedirs(out, exist_ok=True)
    for name, text in CASES().items():
        m = Module(text, name=name)
        m.run(pipeline(name, target))
        for ext, emitted in ((".cu", m.cuda()), (".json", m.cuda_manifest()),
                             (".h", m.cuda_header())):
            with open(os.path.join(out, name + ext), "w") as f:
                f.write(emitted)
    print(f"wrote {len(CASES())} cases for {target} to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "pytorch"),
         *sys.argv[2:3])
