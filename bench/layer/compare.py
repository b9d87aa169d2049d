#!/usr/bin/env python3
"""Two builds of the DeepSeek-V3 layer side by side on the GPU (runs on the
GPU machine; PyTorch, nvcc): the same weights and inputs through both, their
outputs compared bit for bit, their workspaces, and their times measured
alternately in one process (the H200 runs at its power cap under load, so
alternating keeps the comparison fair).

    python3 bench/layer/compare.py <a-dir> <b-dir> <out-dir>

Each dir holds layer.cu (moe-translate of bench/layer/layer.mlir) and, when
it was emitted by another version of the compiler, include/ with that
version's runtime headers (else the tree's). The launchers `v3_layer` of
both have the ABI of docs/abi.md: input, router, bias, gate_up, down,
shared_gate_up, shared_down, output, workspace, num_tokens, stream.
MOE_COMPARE_T=T[,T...] picks the token counts (default 1,64,4096,16384,65536).
Writes results.json and table.md under <out-dir>.
"""

import concurrent.futures
import ctypes
import hashlib
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench import v3_weights  # noqa: E402
from gpu_common import median_ms, write_outputs  # noqa: E402

DEV = torch.device("cuda")
H = 7168


def build(folder, out, name):
    include = os.path.join(folder, "include")
    if not os.path.isdir(include):
        include = os.path.join(ROOT, "include")
    so = os.path.join(out, f"lib{name}.so")
    subprocess.run(["nvcc", "-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC",
                    "-I", include, "-gencode", "arch=compute_90a,code=sm_90a",
                    os.path.join(folder, "layer.cu"), "-o", so], check=True)
    return so


class Layer:
    """v3_layer of one build, with its own workspace."""

    def __init__(self, so):
        lib = ctypes.CDLL(so)
        self.fn = lib.v3_layer
        self.fn.argtypes = [ctypes.c_void_p] * 9 + [ctypes.c_int64, ctypes.c_void_p]
        self.fn.restype = ctypes.c_int
        self.size = lib.v3_layer_workspace_size
        self.size.argtypes = [ctypes.c_int64]
        self.size.restype = ctypes.c_size_t
        self.ws = None

    def prepare(self, T):
        self.ws = None
        torch.cuda.empty_cache()
        self.ws = torch.empty(max(int(self.size(T)), 1), dtype=torch.uint8, device=DEV)

    def __call__(self, inputs, out, T):
        err = self.fn(*[t.data_ptr() for t in inputs], out.data_ptr(), self.ws.data_ptr(), T,
                      torch.cuda.current_stream().cuda_stream)
        if err:
            raise RuntimeError(f"CUDA error {err}")


def digest(t):
    return hashlib.sha256(t.view(torch.int16).cpu().numpy().tobytes()).hexdigest()[:12]


def graph_of(fn, inner):
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
    return graph


def main(a_dir, b_dir, out):
    os.makedirs(out, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        sos = list(pool.map(lambda args: build(*args),
                            [(a_dir, out, "a"), (b_dir, out, "b")]))
    a, b = Layer(sos[0]), Layer(sos[1])
    wt = v3_weights()
    weights = [wt["router"], wt["bias"], wt["gate_up"], wt["down"], wt["sgu"], wt["sd"]]
    Ts = [int(t) for t in os.environ.get("MOE_COMPARE_T", "1,64,4096,16384,65536").split(",")]
    g = torch.Generator(device=DEV).manual_seed(2026)
    rows, lines = [], []
    for T in Ts:
        x = torch.randn(T, H, device=DEV, generator=g).to(torch.bfloat16)
        inputs = [x] + weights
        ya = torch.full((T, H), float("nan"), dtype=torch.bfloat16, device=DEV)
        yb = torch.full((T, H), float("nan"), dtype=torch.bfloat16, device=DEV)
        a.prepare(T)
        b.prepare(T)
        a(inputs, ya, T)
        b.ws.fill_(255)  # nothing may depend on what the workspace held
        b(inputs, yb, T)
        torch.cuda.synchronize()
        same = torch.equal(ya.view(torch.int16), yb.view(torch.int16))
        finite = bool(torch.isfinite(yb.float()).all())
        # Times: CUDA graphs of `inner` calls, replayed alternately.
        inner = 20 if T <= 64 else 5 if T <= 4096 else 2 if T <= 16384 else 1
        reps = 20 if T <= 16384 else 12
        ga = graph_of(lambda: a(inputs, ya, T), inner)
        gb = graph_of(lambda: b(inputs, yb, T), inner)
        ta, tb = [], []
        for _ in range(reps):
            ta.append(median_ms(ga.replay, reps=1, inner=inner))
            tb.append(median_ms(gb.replay, reps=1, inner=inner))
        ta.sort()
        tb.sort()
        ma, mb = ta[len(ta) // 2], tb[len(tb) // 2]
        row = dict(T=T, bitwise_equal=same, finite=finite, digest_a=digest(ya),
                   digest_b=digest(yb), workspace_a_bytes=int(a.size(T)),
                   workspace_b_bytes=int(b.size(T)), ms_a=ma, ms_b=mb, ratio=mb / ma)
        rows.append(row)
        line = (f"T={T:6d}: bitwise {'equal' if same else 'DIFFERENT'} "
                f"({row['digest_a']} / {row['digest_b']}), workspace "
                f"{row['workspace_a_bytes'] / 1e9:.3f} -> {row['workspace_b_bytes'] / 1e9:.3f} GB, "
                f"{ma:.3f} -> {mb:.3f} ms ({mb / ma:.3f}x)")
        print(line, flush=True)
        lines.append(line)
        del ga, gb, ya, yb, x
        torch.cuda.empty_cache()
    table = ["| T | outputs | workspace a (GB) | workspace b (GB) | a (ms) | b (ms) | b / a |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['T']} | {'bitwise equal' if r['bitwise_equal'] else 'DIFFERENT'} | "
                     f"{r['workspace_a_bytes'] / 1e9:.3f} | {r['workspace_b_bytes'] / 1e9:.3f} | "
                     f"{r['ms_a']:.3f} | {r['ms_b']:.3f} | {r['ratio']:.3f} |")
    print("\n".join(table))
    write_outputs(out, dict(rows=rows, a=a_dir, b=b_dir), "\n".join(table), lines,
                  prefix="compare-")
    if not all(r["bitwise_equal"] and r["finite"] for r in rows):
        raise SystemExit("FAILED: the two builds disagree")


if __name__ == "__main__":
    main(*sys.argv[1:4])
