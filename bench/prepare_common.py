"""What the prepare scripts share (runs here, with the moe-mlir build):
emitting a bench's .mlir as CUDA source, header and launcher manifest,
compiling it for the CPU reference, and writing the reference cases."""

import os
import subprocess
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

from moe_mlir.cpu import CPUProgram  # noqa: E402


def emit(bench, out):
    """Writes <out>/<bench>.cu, <bench>.h and the launcher manifest
    <bench>.json (which bench.py binds the launchers from) from
    bench/<bench>/<bench>.mlir (moe-translate of $MOE_BUILD_DIR, default
    build/); returns the module compiled for the CPU."""
    os.makedirs(out, exist_ok=True)
    build = os.environ.get("MOE_BUILD_DIR", os.path.join(ROOT, "build"))
    src = os.path.join(ROOT, "bench", bench, bench + ".mlir")
    translate = os.path.join(build, "bin", "moe-translate")
    for flag, ext in (("--mlir-to-cuda", ".cu"), ("--mlir-to-cuda-header", ".h"),
                      ("--mlir-to-cuda-manifest", ".json")):
        subprocess.run([translate, flag, src, "-o", os.path.join(out, bench + ext)], check=True)
    with open(src) as f:
        return CPUProgram(f.read(), name=f"bench/{bench}/{bench}.mlir")


def save_cases(out, bench, cases):
    """<out>/cpu_reference.npz with the reference cases."""
    path = os.path.join(out, "cpu_reference.npz")
    np.savez(path, **cases)
    size = os.path.getsize(path) / 2**20
    print(f"wrote {out}/{bench}.cu, {bench}.h, {bench}.json, cpu_reference.npz "
          f"({size:.1f} MiB)")
