#!/usr/bin/env python3
"""GPU check and benchmark of the whole MoE layer (runs on the GPU machine;
PyTorch, NumPy, nvcc).

    python3 bench/layer/bench.py <prepared-dir> <out-dir>

1. The small layer of bench/layer/layer.mlir against the compiled CPU
   reference (cpu_reference.npz; T = 1, 7, 100): relative error of the
   output (bf16) and two runs bitwise equal (the second over a workspace
   filled with 0xff).
2. The DeepSeek-V3 layer (random weights, all 256 experts resident) against
   a PyTorch implementation of the same layer at T = 64 and 4096 (and 4096
   with skewed routing): relative error ||y - y_ref|| / ||y_ref|| <= 1e-2;
   two runs bitwise equal, the second over a workspace filled with 0xff.
3. Times (CUDA-graph replays, median of CUDA events) of the whole layer at
   T in {1, 64, 4096, 16384, 65536}, with the router's own routing and with
   a bias that skews it, next to the PyTorch pipeline (routing,
   argsort, a loop over the experts, index_add_), and of the routed expert
   GEMMs alone next to torch._grouped_mm on the same rows, uniform and
   skewed expert loads. Writes results.json and table.md under <out-dir>.

MOE_BENCH_QUICK=1 stops after the checks; MOE_BENCH_PROFILE=T only runs
the V3 layer twice at T tokens (for ncu or nsys); MOE_BENCH_LAYER=T[,T...]
only times the V3 layer (plain and skewed routing) at those T, without
the checks, and prints its expert loads (for comparing tilings through
MOE_CUDA_TILE). MOE_BENCH_LIB=path reuses a library built by an earlier run.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))

from gpu_common import (Emitted, graphed_ms, load_manifest, median_ms, nvcc_shared,  # noqa: E402
                        write_outputs)

DEV = torch.device("cuda")
E, K, H, I = 256, 8, 7168, 2048


class Layer:
    def __init__(self, lib, name, nin):
        spec = lib.manifest[name]
        # __call__ passes nin inputs, one output and a workspace.
        if len(spec.inputs) != nin or len(spec.outputs) != 1 or spec.workspace is None:
            raise RuntimeError(f"{name}: the manifest's parameters "
                               f"({', '.join(p.name for p in spec.params)}) are not "
                               f"{nin} inputs, an output and a workspace")
        self.fn = spec.bind(lib)
        self.size = spec.bind_workspace_size(lib)
        self.ws = None

    def __call__(self, inputs, out, T):
        n = int(self.size(T))
        if self.ws is None or self.ws.numel() < n:
            self.ws = None
            torch.cuda.empty_cache()
            self.ws = torch.empty(max(n, 1), dtype=torch.uint8, device=DEV)
        err = self.fn(*[t.data_ptr() for t in inputs], out.data_ptr(), self.ws.data_ptr(), T,
                      torch.cuda.current_stream().cuda_stream)
        if err:
            raise RuntimeError(f"CUDA error {err}")


def from_bits(a):
    return torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).to(DEV).view(torch.bfloat16)


def rel_err(y, ref):
    y, ref = y.float(), ref.float()
    return ((y - ref).norm() / ref.norm()).item()


def check_small(lib, prepared, log):
    data = np.load(os.path.join(prepared, "cpu_reference.npz"))
    w = [from_bits(data[f"w{i}"]) if data[f"w{i}"].dtype == np.uint16
         else torch.from_numpy(data[f"w{i}"]).to(DEV) for i in range(6)]
    layer = Layer(lib, "small_layer", 7)
    worst = 0.0
    for T in (1, 7, 100):
        x = from_bits(data[f"T{T}/x"])
        want = from_bits(data[f"T{T}/y"])
        y = torch.full((T, 256), float("nan"), dtype=torch.bfloat16, device=DEV)
        layer([x] + w, y, T)
        y2 = torch.empty_like(y)
        layer.ws.fill_(255)  # the second call must not read the first's workspace
        layer([x] + w, y2, T)
        torch.cuda.synchronize()
        err = rel_err(y, want)
        worst = max(worst, err)
        same = torch.equal(y.view(torch.int16), y2.view(torch.int16))
        if not (err <= 1e-2 and same):
            raise SystemExit(f"FAILED small layer T={T}: relative error {err:.3g}, deterministic {same}")
    log(f"check small layer vs CPU reference ok: T = 1, 7, 100; relative error <= {worst:.2e}; deterministic")
    return worst


def v3_weights(seed=0):
    g = torch.Generator(device=DEV).manual_seed(seed)
    r = lambda *s, scale: (torch.randn(*s, device=DEV, generator=g) * scale).to(torch.bfloat16)
    return dict(router=r(E, H, scale=0.02), bias=torch.randn(E, device=DEV, generator=g) * 0.02,
                gate_up=r(E, 2 * I, H, scale=0.02), down=r(E, H, I, scale=0.02),
                sgu=r(1, 2 * I, H, scale=0.02), sd=r(1, H, I, scale=0.02))


def torch_route(x, wt):
    z = x.float() @ wt["router"].float().T
    s = torch.sigmoid(z)
    sb = s + wt["bias"]
    T = x.shape[0]
    group = sb.view(T, 8, E // 8).topk(2, dim=-1).values.sum(-1)
    keep = torch.zeros(T, 8, dtype=torch.bool, device=DEV)
    keep.scatter_(1, group.topk(4, dim=-1).indices, True)
    masked = sb.masked_fill(~keep.repeat_interleave(E // 8, dim=1), float("-inf"))
    ids = masked.topk(K, dim=-1).indices
    w = s.gather(1, ids)
    w = w / w.sum(-1, keepdim=True) * 2.5
    return ids, w


def torch_ffn(xe, gu, d):
    g, u = (xe @ gu.T).float().chunk(2, dim=-1)
    return ((F.silu(g) * u).to(torch.bfloat16) @ d.T)


def torch_layer(x, wt):
    """The PyTorch pipeline: routing, a stable sort by expert, a loop over
    the experts with rows, index_add_ of the weighted outputs."""
    T = x.shape[0]
    ids, w = torch_route(x, wt)
    flat = ids.view(-1)
    order = torch.argsort(flat, stable=True)
    counts = torch.bincount(flat, minlength=E).tolist()
    tok = order // K
    out = torch.zeros(T, H, dtype=torch.float32, device=DEV)
    start = 0
    for e, c in enumerate(counts):
        if c:
            sel = tok[start:start + c]
            ye = torch_ffn(x[sel], wt["gate_up"][e], wt["down"][e])
            out.index_add_(0, sel, ye.float() * w.view(-1)[order[start:start + c]][:, None])
            start += c
    out += torch_ffn(x, wt["sgu"][0], wt["sd"][0]).float()
    return out.to(torch.bfloat16)


def check_v3(lib, wt, log):
    layer = Layer(lib, "v3_layer", 7)
    results = {}
    g = torch.Generator(device=DEV).manual_seed(11)
    for T, skew in ((64, False), (4096, False), (4096, True)):
        x = torch.randn(T, H, device=DEV, generator=g).to(torch.bfloat16)
        if skew:  # the skewed routing of the timings below
            wt = dict(wt, bias=wt["bias"] + torch.exp(-torch.arange(E, device=DEV) / 24.0))
        args = [x, wt["router"], wt["bias"], wt["gate_up"], wt["down"], wt["sgu"], wt["sd"]]
        y = torch.full((T, H), float("nan"), dtype=torch.bfloat16, device=DEV)
        layer(args, y, T)
        y2 = torch.empty_like(y)
        layer.ws.fill_(255)  # NaN bf16 / f32 everywhere in the workspace
        layer(args, y2, T)
        ref = torch_layer(x, wt)
        torch.cuda.synchronize()
        err = rel_err(y, ref)
        same = torch.equal(y.view(torch.int16), y2.view(torch.int16))
        name = f"T={T}" + (" skewed" if skew else "")
        results[name] = err
        if not (err <= 1e-2 and same and torch.isfinite(y.float()).all()):
            raise SystemExit(f"FAILED v3 layer {name}: relative error {err:.3g}, deterministic {same}")
        # A fingerprint of our output, to compare across processes.
        bits = y.view(torch.int16).to(torch.int64)
        digest = int((bits * torch.arange(1, bits.numel() + 1, device=DEV).view_as(bits)).sum())
        log(f"check v3 layer {name:<12} vs PyTorch ok: relative error {err:.2e}; deterministic; "
            f"output digest {digest & 0xffffffffffff:012x}")
    return results


def skewed_offsets(rows, skew, gen):
    if skew:
        p = torch.exp(-torch.arange(E, device=DEV) / 24.0)
        e = torch.multinomial(p / p.sum(), rows, replacement=True, generator=gen)
    else:
        e = torch.randint(0, E, (rows,), device=DEV, generator=gen)
    counts = torch.bincount(e, minlength=E)
    return torch.cat([torch.zeros(1, dtype=torch.int64, device=DEV), counts.cumsum(0)]).to(torch.int32)


def time_all(lib, wt, log):
    layer = Layer(lib, "v3_layer", 7)
    experts = Layer(lib, "v3_experts", 4)
    gen = torch.Generator(device=DEV).manual_seed(7)
    table = {}
    for T in (1, 64, 4096, 16384, 65536):
        x = torch.randn(T, H, device=DEV).to(torch.bfloat16)
        y = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
        args = [x, wt["router"], wt["bias"], wt["gate_up"], wt["down"], wt["sgu"], wt["sd"]]
        inner = 1 if T >= 16384 else 5
        ours = graphed_ms(lambda: layer(args, y, T), inner) if T < 65536 else \
            median_ms(lambda: layer(args, y, T), reps=3)
        # The same layer with skewed routing: a bias (selection only) that
        # favours the low experts, exp(-e / 24), as the skewed GEMM loads.
        skew_args = list(args)
        skew_args[2] = wt["bias"] + torch.exp(-torch.arange(E, device=DEV) / 24.0)
        ours_skewed = graphed_ms(lambda: layer(skew_args, y, T), inner) if T < 65536 else \
            median_ms(lambda: layer(skew_args, y, T), reps=3)
        try:
            torch_layer(x, wt)
            theirs = median_ms(lambda: torch_layer(x, wt), reps=3 if T >= 16384 else 10)
        except torch.OutOfMemoryError:
            theirs = float("nan")
        layer.ws = None  # room for the GEMM step below
        torch.cuda.empty_cache()
        row = dict(layer_ms=ours, layer_skewed_ms=ours_skewed, torch_layer_ms=theirs)
        # The routed expert GEMMs alone on T*K rows.
        rows = T * K
        xr = torch.randn(rows, H, device=DEV).to(torch.bfloat16)
        yr = torch.empty(rows, H, dtype=torch.bfloat16, device=DEV)
        for skew in (False, True):
            off = skewed_offsets(rows, skew, gen)
            mine = median_ms(lambda: experts([xr, off, wt["gate_up"], wt["down"]], yr, rows),
                             reps=3 if T >= 16384 else 10)
            try:
                ends = off[1:].contiguous()
                def grouped():
                    gu = torch._grouped_mm(xr, wt["gate_up"].transpose(1, 2), offs=ends)
                    g, u = gu.float().chunk(2, dim=-1)
                    h = (F.silu(g) * u).to(torch.bfloat16)
                    return torch._grouped_mm(h, wt["down"].transpose(1, 2), offs=ends)
                grouped()
                ref = median_ms(grouped, reps=3 if T >= 16384 else 10)
            except Exception as exc:  # noqa: BLE001 - report, keep timing
                log(f"torch._grouped_mm unavailable: {exc}")
                ref = float("nan")
            row["skewed" if skew else "uniform"] = dict(ours_ms=mine, grouped_mm_ms=ref)
        del xr, yr
        torch.cuda.empty_cache()
        table[T] = row
        log(f"timed T={T}: {row}")
    return table


def time_layer(lib, wt, log, Ts):
    """The V3 layer alone at each T, with the random router's loads and
    with skewed routing (as time_all)."""
    layer = Layer(lib, "v3_layer", 7)
    # One generator per T: the n-th draw at a T is the same whatever other
    # T the list holds.
    gens = {}
    out = {}
    for T in Ts:
        gen = gens.setdefault(T, torch.Generator(device=DEV).manual_seed(5))
        x = torch.randn(T, H, device=DEV, generator=gen).to(torch.bfloat16)
        y = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
        times = []
        for skew in (False, True):
            bias = wt["bias"] + (torch.exp(-torch.arange(E, device=DEV) / 24.0) if skew else 0)
            args = [x, wt["router"], bias, wt["gate_up"], wt["down"], wt["sgu"], wt["sd"]]
            counts = torch.bincount(torch_route(x, dict(wt, bias=bias))[0].view(-1), minlength=E)
            times.append(graphed_ms(lambda: layer(args, y, T), 1 if T >= 16384 else 5) if T < 65536
                         else median_ms(lambda: layer(args, y, T), reps=3))
            log(f"layer T={T}{' skewed' if skew else ''}: {times[-1]:.3f} ms; loads: at most "
                f"{int(counts.max())} rows, {int((counts > 128).sum())} / {int((counts > 192).sum())} / "
                f"{int((counts > 256).sum())} experts over 128 / 192 / 256, {int((counts == 0).sum())} empty")
        out[T] = times
    return out


def main():
    prepared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    manifest = load_manifest(prepared, "layer")
    if os.environ.get("MOE_BENCH_LIB"):
        lib = Emitted(os.environ["MOE_BENCH_LIB"], manifest)
    else:
        lib, _ = nvcc_shared(os.path.join(prepared, "layer.cu"), os.path.join(out, "liblayer.so"),
                             manifest)
    lines = []

    def log(s):
        print(s, flush=True)
        lines.append(s)

    results = {"device": torch.cuda.get_device_name()}
    if os.environ.get("MOE_BENCH_PROFILE"):
        # Two calls of the V3 layer at T = $MOE_BENCH_PROFILE and nothing
        # else, for a profiler (ncu -k regex:'v3_layer|groupedGemm').
        T = int(os.environ["MOE_BENCH_PROFILE"])
        wt = v3_weights()
        layer = Layer(lib, "v3_layer", 7)
        x = torch.randn(T, H, device=DEV).to(torch.bfloat16)
        y = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
        for _ in range(2):
            layer([x, wt["router"], wt["bias"], wt["gate_up"], wt["down"], wt["sgu"], wt["sd"]], y, T)
        torch.cuda.synchronize()
        return
    if os.environ.get("MOE_BENCH_LAYER"):
        Ts = [int(t) for t in os.environ["MOE_BENCH_LAYER"].split(",")]
        results["layer_ms"] = time_layer(lib, v3_weights(), log, Ts)
        write_outputs(out, results, log=lines)
        return
    results["small_rel_err"] = check_small(lib, prepared, log)
    wt = v3_weights()
    results["v3_rel_err"] = check_v3(lib, wt, log)
    table = None
    if os.environ.get("MOE_BENCH_QUICK") != "1":
        results["timings"] = t = time_all(lib, wt, log)
        md = ["| T | layer (ms) | layer, skewed routing (ms) | PyTorch pipeline (ms) | × | expert GEMMs uniform (ms) | torch._grouped_mm (ms) | ratio | expert GEMMs skewed (ms) | torch._grouped_mm (ms) | ratio |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for T, r in t.items():
            u, s = r["uniform"], r["skewed"]
            md.append(f"| {T} | {r['layer_ms']:.3f} | {r['layer_skewed_ms']:.3f} | {r['torch_layer_ms']:.3f} | "
                      f"{r['torch_layer_ms'] / r['layer_ms']:.2f} | {u['ours_ms']:.3f} | "
                      f"{u['grouped_mm_ms']:.3f} | {u['grouped_mm_ms'] / u['ours_ms']:.2f} | "
                      f"{s['ours_ms']:.3f} | {s['grouped_mm_ms']:.3f} | "
                      f"{s['grouped_mm_ms'] / s['ours_ms']:.2f} |")
        table = "\n".join(md)
        print(table)
    write_outputs(out, results, table, lines)


if __name__ == "__main__":
    main()
