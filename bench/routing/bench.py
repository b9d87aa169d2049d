#!/usr/bin/env python3
"""GPU check and benchmark of the emitted routing kernels (runs on the GPU
machine; needs PyTorch, NumPy and nvcc, not LLVM).

    python3 bench/routing/bench.py <prepared-dir> <out-dir> [--quick]

1. Builds <prepared-dir>/routing.cu (from bench/routing/prepare.py) into a
   shared library with nvcc for the target of its launcher manifest
   routing.json (sm_90a), which the launchers are bound from.
2. Checks every configuration against the compiled CPU reference
   (cpu_reference.npz: T = 1, 7, 64, 1024) and against the NumPy reference on
   fresh random inputs (T = 1, 7, 64, 4096, 65536): ids exactly, slot order
   included, except at genuine near-ties (contested scores within 1e-6
   relative), which are counted; weights within 1e-6 relative; counts
   exactly; outputs poisoned before each run; two runs bitwise equal.
3. Times each configuration with CUDA events (median of CUDA-graph replays,
   inputs rotated when they fit in L2) next to PyTorch eager and
   torch.compile versions of the same routing, in the same process.
Writes results.json and table.md under <out-dir> and prints the table.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import reference as ref  # noqa: E402
from gpu_common import load_manifest, median_ms, nvcc_shared, write_outputs  # noqa: E402
from configs import CONFIGS, bf16_round  # noqa: E402

DEV = torch.device("cuda")


# ----------------------------------------------------------------------------
# The emitted library.

def build(prepared, out):
    return nvcc_shared(os.path.join(prepared, "routing.cu"),
                       os.path.join(out, "librouting.so"), load_manifest(prepared, "routing"))


class Launcher:
    def __init__(self, lib, name, cfg):
        spec = lib.manifest[name]
        self.fn = spec.bind(lib)
        self.cfg = cfg
        dtype, E, K, G, M, gs, func, bias, norm, scale, counts = cfg
        nptr = 1 + (1 if bias else 0) + 2 + (1 if counts else 0)
        # __call__ passes the pointers configs.py describes and no workspace.
        if len(spec.inputs) + len(spec.outputs) != nptr or spec.workspace is not None:
            raise RuntimeError(f"{name}: the manifest's parameters "
                               f"({', '.join(p.name for p in spec.params)}) do not match "
                               "configs.py")

    def __call__(self, z, b, ids, w, counts=None, stream=None):
        args = [z.data_ptr()]
        if self.cfg[7]:
            args.append(b.data_ptr())
        args += [ids.data_ptr(), w.data_ptr()]
        if self.cfg[10]:
            args.append(counts.data_ptr())
        s = stream if stream is not None else torch.cuda.current_stream().cuda_stream
        err = self.fn(*args, z.shape[0], s)
        if err != 0:
            raise RuntimeError(f"launcher returned CUDA error {err}")


# ----------------------------------------------------------------------------
# Checks.

def torch_input(z, dtype):
    t = torch.from_numpy(np.ascontiguousarray(z)).to(DEV)
    return t.to(torch.bfloat16) if dtype == "bf16" else t


def run_gpu(launch, cfg, z_t, b_t, T):
    E, K = cfg[1], cfg[2]
    ids = torch.full((T, K), -7, dtype=torch.int32, device=DEV)
    w = torch.full((T, K), float("nan"), dtype=torch.float32, device=DEV)
    counts = torch.full((E,), -7, dtype=torch.int32, device=DEV) if cfg[10] else None
    launch(z_t, b_t, ids, w, counts)
    torch.cuda.synchronize()
    return ids.cpu().numpy(), w.cpu().numpy(), None if counts is None else counts.cpu().numpy()


def compare(name, cfg, z, b, gpu, want_ids, want_w, want_counts, stats):
    """ids exact except near-ties, weights 1e-6 relative, counts exact."""
    dtype, E, K, G, M, gs, func, bias, norm, scale, has_counts = cfg
    ids, w, counts = gpu
    assert (ids >= 0).all() and (ids < E).all(), f"{name}: ids not written or out of range"
    assert not np.isnan(w).any(), f"{name}: weights not written"
    s = ref.score(z, func)
    _, _, sel, gscore = ref.route_vectorized(s, K, b, G, M, gs, norm, scale)
    bad = np.nonzero((ids != want_ids).any(axis=1))[0]
    for t in bad:
        ok = ref.explained_by_near_tie(sel[t], ids[t], want_ids[t],
                                       None if gscore is None else gscore[t], G, M)
        assert ok, (f"{name}: token {t}: ids {ids[t]} vs reference {want_ids[t]} "
                    "differ without a near-tie")
    stats["near_ties"] += len(bad)
    stats["tokens"] += ids.shape[0]
    same = np.ones(ids.shape[0], bool)
    same[bad] = False
    if same.any():
        rel = np.abs(w[same] - want_w[same]) / np.maximum(np.abs(want_w[same]), 1e-30)
        stats["max_rel_weight"] = max(stats["max_rel_weight"], float(rel.max()))
        assert rel.max() <= 1e-6, f"{name}: weights differ by {rel.max():.3e} relative"
    if has_counts:
        want = np.bincount(ids.reshape(-1), minlength=E)
        assert (counts == want).all(), f"{name}: counts are not the histogram of the ids"
        if len(bad) == 0 and want_counts is not None:
            assert (counts == want_counts).all(), f"{name}: counts differ from the reference"


def check_all(lib, prepared, quick):
    cases = np.load(os.path.join(prepared, "cpu_reference.npz"))
    results = {}
    seed = int(time.time())
    rng = np.random.default_rng(seed)
    for name, cfg in CONFIGS.items():
        launch = Launcher(lib, name, cfg)
        dtype, E, K, G, M, gs, func, bias, norm, scale, has_counts = cfg
        stats = {"near_ties": 0, "tokens": 0, "max_rel_weight": 0.0}
        # Against the compiled CPU reference.
        for T in (1, 7, 64, 1024):
            key = f"{name}/T{T}"
            z = cases[key + "/logits"]
            b = cases[key + "/bias"] if bias else None
            gpu = run_gpu(launch, cfg, torch_input(z, dtype),
                          None if b is None else torch.from_numpy(b).to(DEV), T)
            compare(f"{key} (CPU reference)", cfg, z, b, gpu, cases[key + "/ids"],
                    cases[key + "/weights"],
                    cases[key + "/counts"] if has_counts else None, stats)
        # Against the NumPy reference on fresh random inputs.
        for T in ((1, 7, 64, 4096) if quick else (1, 7, 64, 4096, 65536)):
            z = rng.normal(0.0, 2.0, size=(T, E)).astype(np.float32)
            if dtype == "bf16":
                z = bf16_round(z)
            b = rng.normal(0.0, 0.05, size=E).astype(np.float32) if bias else None
            z_t = torch_input(z, dtype)
            b_t = None if b is None else torch.from_numpy(b).to(DEV)
            gpu = run_gpu(launch, cfg, z_t, b_t, T)
            want_ids, want_w, _, _ = ref.route_vectorized(
                ref.score(z, func), K, b, G, M, gs, norm, scale)
            compare(f"{name}/T{T} (fresh)", cfg, z, b, gpu, want_ids, want_w, None, stats)
            again = run_gpu(launch, cfg, z_t, b_t, T)
            for x, y in zip(gpu, again):
                if x is not None:
                    assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), \
                        f"{name}/T{T}: two runs differ"
        results[name] = stats
        print(f"check {name:14s} ok: {stats['tokens']} tokens, {stats['near_ties']} near-ties, "
              f"max weight error {stats['max_rel_weight']:.2e}", flush=True)
    return results, seed


# ----------------------------------------------------------------------------
# Timing.

def torch_route(z, b, cfg):
    dtype, E, K, G, M, gs, func, bias, norm, scale, _ = cfg
    z = z.float()
    s = torch.sigmoid(z) if func == "sigmoid" else torch.softmax(z, dim=-1)
    sel = s + b if bias else s
    if G > 1:
        v = sel.view(-1, G, E // G)
        g = v.amax(-1) if gs[0] == "max" else v.topk(gs[1], dim=-1).values.sum(-1)
        keep = g.topk(M, dim=-1).indices
        mask = torch.zeros_like(g, dtype=torch.bool).scatter_(1, keep, True)
        sel = sel.masked_fill(~mask.repeat_interleave(E // G, dim=1), float("-inf"))
    ids = sel.topk(K, dim=-1).indices
    w = s.gather(1, ids)
    if norm:
        w = w / (w.sum(-1, keepdim=True) + 1e-20)
    return ids.int(), w * scale


def copy_bandwidth():
    x = torch.empty(1 << 28, dtype=torch.float32, device=DEV)  # 1 GiB
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    ms = median_ms(lambda: y.copy_(x), reps=20)
    return 2 * x.numel() * 4 / (ms * 1e-3) / 1e12


def time_config(lib, name, cfg, T, with_compile):
    dtype, E, K, G, M, gs, func, bias, norm, scale, has_counts = cfg
    launch = Launcher(lib, name, cfg)
    in_bytes = 2 if dtype == "bf16" else 4
    rotate = max(1, min(16, int(64e6 // max(1, T * E * in_bytes))))
    zs = [torch.randn(T, E, device=DEV).mul_(2).to(torch.bfloat16 if dtype == "bf16" else torch.float32)
          for _ in range(rotate)]
    b = torch.randn(E, device=DEV) * 0.05 if bias else None
    ids = torch.empty(T, K, dtype=torch.int32, device=DEV)
    w = torch.empty(T, K, dtype=torch.float32, device=DEV)
    counts = torch.empty(E, dtype=torch.int32, device=DEV) if has_counts else None

    # Ours, replayed from a CUDA graph of `inner` launches over rotated inputs.
    inner = 20
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for i in range(3):
            launch(zs[i % rotate], b, ids, w, counts, stream.cuda_stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        for i in range(inner):
            launch(zs[i % rotate], b, ids, w, counts, torch.cuda.current_stream().cuda_stream)
    graph.replay()
    torch.cuda.synchronize()
    ours = median_ms(graph.replay, reps=30, inner=inner)
    # A single launch from Python (host latency included where the GPU waits).
    ours_call = median_ms(lambda: launch(zs[0], b, ids, w, counts), reps=30)

    it = iter(range(1 << 30))
    eager = median_ms(lambda: torch_route(zs[next(it) % rotate], b, cfg), reps=20)
    compiled = None
    if with_compile:
        fn = torch.compile(lambda z: torch_route(z, b, cfg), mode="reduce-overhead",
                           dynamic=False)
        for i in range(5):
            fn(zs[i % rotate])
        torch.cuda.synchronize()
        compiled = median_ms(lambda: fn(zs[next(it) % rotate]), reps=20)
    bytes_moved = T * E * in_bytes + T * K * 8 + (E * 4 if bias else 0) + (E * 4 if has_counts else 0)
    return {"config": name, "T": T, "ours_ms": ours, "ours_call_ms": ours_call,
            "eager_ms": eager, "compile_ms": compiled, "bytes": bytes_moved}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("prepared")
    parser.add_argument("out")
    parser.add_argument("--quick", action="store_true", help="smaller check and timing set")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False

    lib, build_s = build(args.prepared, args.out)
    print(f"built routing.cu in {build_s:.1f} s on {torch.cuda.get_device_name()}", flush=True)
    checks, seed = check_all(lib, args.prepared, args.quick)
    bw = copy_bandwidth()
    print(f"device-to-device copy: {bw:.2f} TB/s", flush=True)

    rows = []
    plan = [("v3_f32", [1, 64, 4096, 65536], True), ("v3_f32_counts", [1, 64, 4096, 65536], False),
            ("v3_bf16", [1, 64, 4096, 65536], True), ("v2_f32", [64, 4096, 65536], False),
            ("v2_bf16", [4096, 65536], False), ("v2_lite_f32", [64, 4096, 65536], False),
            ("e384_f32", [64, 4096, 65536], False), ("e512_bf16", [4096, 65536], False)]
    if args.quick:
        plan = [(n, [t for t in ts if t in (1, 4096, 65536)], c) for n, ts, c in plan[:3]]
    for name, tokens, with_compile in plan:
        for T in tokens:
            r = time_config(lib, name, CONFIGS[name], T, with_compile and T in (1, 4096, 65536))
            r["copy_fraction"] = r["bytes"] / (r["ours_ms"] * 1e-3) / (bw * 1e12)
            rows.append(r)
            print(f"time {name:14s} T={T:6d}: ours {r['ours_ms'] * 1e3:8.1f} us "
                  f"({100 * r['copy_fraction']:5.1f}% of copy bw), eager {r['eager_ms'] * 1e3:8.1f} us"
                  + (f", compile {r['compile_ms'] * 1e3:8.1f} us" if r["compile_ms"] else ""),
                  flush=True)

    table = ["| config | T | ours (µs) | % of copy bw | single call from Python (µs) | torch eager (µs) | torch.compile (µs) | vs eager | vs compile |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        comp = f"{r['compile_ms'] * 1e3:.1f}" if r["compile_ms"] else "–"
        vsc = f"{r['compile_ms'] / r['ours_ms']:.0f}×" if r["compile_ms"] else "–"
        table.append(f"| {r['config']} | {r['T']} | {r['ours_ms'] * 1e3:.1f} | {100 * r['copy_fraction']:.0f}% | "
                     f"{r['ours_call_ms'] * 1e3:.1f} | {r['eager_ms'] * 1e3:.1f} | {comp} | "
                     f"{r['eager_ms'] / r['ours_ms']:.0f}× | {vsc} |")
    text = "\n".join(table)
    write_outputs(args.out, {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                             "copy_tb_s": bw, "seed": seed, "checks": checks, "timings": rows}, text)
    print("\ncopy bandwidth %.2f TB/s; checks passed (seed %d)" % (bw, seed))
    print(text)


if __name__ == "__main__":
    main()
