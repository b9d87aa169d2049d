"""What the GPU benches share (runs on the GPU machine): building an emitted
.cu into a shared library that carries its launcher manifest, and timing
with CUDA events."""

import ctypes
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

from moe_mlir.abi import Manifest  # noqa: E402  (standard library only: no libMoeCAPI.so)


class Emitted(ctypes.CDLL):
    """An emitted module's shared library with its launcher manifest
    (`manifest`, a moe_mlir.abi.Manifest): `lib.manifest[name].bind(lib)`
    is launcher `name` with its argument types set."""

    def __init__(self, so, manifest):
        super().__init__(so)
        self.manifest = manifest


def load_manifest(prepared, bench):
    """<prepared>/<bench>.json, the manifest the prepare step wrote next to
    <bench>.cu."""
    return Manifest.load(os.path.join(prepared, bench + ".json"))


def nvcc_shared(source, so, manifest):
    """nvcc -O3 into a shared library for the manifest's target on this GPU
    (sm_90a for an sm_90a module); returns (Emitted, seconds)."""
    gencode = manifest.target.gencode(torch.cuda.get_device_capability())
    t0 = time.time()
    subprocess.run(["nvcc", "-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC",
                    "-I", os.path.join(ROOT, "include"),
                    "-gencode", gencode, source, "-o", so],
                   check=True)
    return Emitted(so, manifest), time.time() - t0


def median_ms(fn, reps=30, inner=1):
    """Median over `reps` CUDA-event timings of fn(), divided by `inner`
    (the launches fn makes)."""
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        e.record()
        e.synchronize()
        times.append(a.elapsed_time(e) / inner)
    return float(np.median(times))


def graphed_ms(fn, inner):
    """fn captured `inner` times in one CUDA graph (after a warm-up call on
    the capture stream); milliseconds per call of its replays."""
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        fn()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        for _ in range(inner):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    return median_ms(graph.replay, inner=inner)


def write_outputs(out, results, table=None, log=None, prefix=""):
    """<out>/<prefix>results.json, and <prefix>table.md (text) and log.txt
    (lines) when given."""
    with open(os.path.join(out, prefix + "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    if table is not None:
        with open(os.path.join(out, prefix + "table.md"), "w") as f:
            f.write(table + "\n")
    if log is not None:
        with open(os.path.join(out, "log.txt"), "w") as f:
            f.write("\n".join(log) + "\n")
