#!/usr/bin/env python3
"""GPU check and benchmark of the compiled FP8 layer (runs on the GPU
machine; PyTorch, NumPy, nvcc). bench/fp8/prepare.py writes <prepared>.

    python3 bench/fp8/layer.py <prepared-dir> <out-dir>

1. act_quant (small_quantize) and act_quant + permute (small_permute)
   against the CPU reference: values, scales, row map and offsets bitwise,
   T = 1, 7, 100, 333, rows over many magnitudes with zero, NaN and
   infinite groups, dropped slots.
2. The small FP8 layer (8 experts, H 256, I 128, shared 256, random e4m3
   codes and scales) against the CPU reference. Not bitwise: the tensor
   cores sum each 128-wide block of e4m3 products with about 13 bits
   (bench/fp8/check.py measures 2^-13 of the products' magnitude), and
   where that moves h across an e4m3 rounding boundary, h's code differs
   by one step (up to 2^-3 relative of that element), which moves the
   down projection's outputs of that token. If every h element of a token
   moved by a step, ||dh|| <= 2^-3 ||h||; flips are rare (a block sum must
   lie within 2^-13 of a rounding boundary), so the bound is per token
   ||y - y_cpu|| <= 2^-4 ||y_cpu|| (measured: about 2^-6 at worst), every
   element finite; and the layer is bitwise the same run to run (the
   second run over a workspace of 0xff).
3. DeepSeek-V3's FP8 layer (random weights quantised per 128x128 block)
   against PyTorch computing the same layer from the dequantised weights
   and the unquantised x in f32 (routing as the layer's): the relative
   error per token is reported (FP8 activations carry about 2^-4 relative
   rounding per element; the norm-wise error is bounded by 0.1 per token)
   with the bf16 layer's error against the same reference next to it.
4. Times (CUDA-graph replays, medians) of the FP8 and the bf16 layer at
   T in {1, 64, 4096, 16384, 65536}, routing as drawn and skewed by a bias.
Writes fp8_layer.json under <out-dir>. MOE_FP8_QUICK=1 stops after the
checks; MOE_FP8_TIMES=T[,T...] only times, at those T;
MOE_FP8_PROFILE=T[,T...] adds each kernel's time in one call at those T.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "layer"))

from gpu_common import graphed_ms, load_manifest, nvcc_shared  # noqa: E402
from bench import Layer, from_bits, torch_route  # noqa: E402  (bench/layer/bench.py)

DEV = torch.device("cuda")
E, K, H, I = 256, 8, 7168, 2048


class Kernel:
    """A launcher with several outputs: inputs, outputs, workspace, T."""

    def __init__(self, lib, name):
        spec = lib.manifest[name]
        self.fn = spec.bind(lib)
        self.size = spec.bind_workspace_size(lib) if spec.workspace is not None else None
        self.ws = None

    def __call__(self, inputs, outputs, T, ws_fill=None):
        args = [t.data_ptr() for t in inputs + outputs]
        if self.size is not None:
            n = max(int(self.size(T)), 1)
            if self.ws is None or self.ws.numel() < n:  # never while capturing
                self.ws = None
                torch.cuda.empty_cache()
                self.ws = torch.empty(n, dtype=torch.uint8, device=DEV)
            if ws_fill is not None:
                self.ws.fill_(ws_fill)
            args.append(self.ws.data_ptr())
        err = self.fn(*args, T, torch.cuda.current_stream().cuda_stream)
        if err:
            raise RuntimeError(f"CUDA error {err}")


def dev(a):
    a = np.ascontiguousarray(a)
    if a.dtype == np.uint16:
        return from_bits(a)
    return torch.from_numpy(a).to(DEV)


def check_small(lib, data, log, report):
    quant, perm = Kernel(lib, "small_quantize"), Kernel(lib, "small_permute")
    layer = Kernel(lib, "small_layer")
    w = [dev(data[f"w{i}"]) for i in range(10)]
    w = [t.view(torch.float8_e4m3fn) if t.dtype == torch.uint8 else t for t in w]
    worst = 0.0
    for T in (1, 7, 100, 333):
        x = dev(data[f"q{T}/x"])
        q = torch.empty(T, 256, dtype=torch.uint8, device=DEV)
        s = torch.empty(T, 2, dtype=torch.float32, device=DEV)
        quant([x], [q, s], T)
        ids, wts = dev(data[f"p{T}/ids"]), dev(data[f"p{T}/w"])
        pr = torch.empty(2 * T, 256, dtype=torch.uint8, device=DEV)
        ps = torch.empty(2 * T, 2, dtype=torch.float32, device=DEV)
        pm = torch.empty(T, 2, dtype=torch.int32, device=DEV)
        po = torch.empty(9, dtype=torch.int32, device=DEV)
        perm([x, ids, wts], [pr, ps, pm, po], T)
        xl = dev(data[f"l{T}/x"])
        y = torch.full((T, 256), float("nan"), dtype=torch.bfloat16, device=DEV)
        layer([xl] + w, [y], T)
        y2 = torch.empty_like(y)
        layer([xl] + w, [y2], T, ws_fill=255)
        torch.cuda.synchronize()
        bitwise = {
            "quantize values": np.array_equal(q.cpu().numpy(), data[f"q{T}/values"]),
            "quantize scales": np.array_equal(s.cpu().numpy().view(np.uint32),
                                              data[f"q{T}/scales"].view(np.uint32)),
            "permute rows": np.array_equal(pr.cpu().numpy(), data[f"p{T}/rows"]),
            "permute scales": np.array_equal(ps.cpu().numpy().view(np.uint32),
                                             data[f"p{T}/scales"].view(np.uint32)),
            "permute map": np.array_equal(pm.cpu().numpy(), data[f"p{T}/map"]),
            "permute offsets": np.array_equal(po.cpu().numpy(), data[f"p{T}/offsets"]),
        }
        bad = [k for k, ok in bitwise.items() if not ok]
        if bad:
            raise SystemExit(f"FAILED T={T}: not bitwise: {', '.join(bad)}")
        want = dev(data[f"l{T}/y"]).float()
        got = y.float()
        per_token = (got - want).norm(dim=1) / want.norm(dim=1).clamp_min(1e-30)
        err = per_token.max().item()
        same = torch.equal(y.view(torch.int16), y2.view(torch.int16))
        worst = max(worst, err)
        differ = (y.view(torch.int16) != dev(data[f"l{T}/y"]).view(torch.int16)).float().mean()
        log(f"  small FP8 layer T={T}: per-token relative error max {err:.2e} mean "
            f"{per_token.mean().item():.2e}; {differ.item():.1%} of outputs not bitwise")
        if not (err <= 2.0 ** -4 and same and torch.isfinite(got).all()):
            raise SystemExit(f"FAILED small FP8 layer T={T}: per-token relative error "
                             f"{err:.3g} (bound 2^-4), deterministic {same}")
    log(f"check small: act_quant and act_quant+permute bitwise (T = 1, 7, 100, 333); FP8 "
        f"layer vs CPU max per-token relative error {worst:.2e} (bound 2^-4); deterministic")
    report["small_layer_max_token_rel_err"] = worst


def block_quant(w):
    """[N, Kd] f32 -> e4m3 codes and [N/128, Kd/128] scales (amax/448)."""
    n, kd = w.shape
    amax = w.abs().view(n // 128, 128, kd // 128, 128).amax(dim=(1, 3)).clamp_min(1e-4)
    s = (amax / 448.0).float()
    q = (w / s.repeat_interleave(128, 0).repeat_interleave(128, 1)).to(torch.float8_e4m3fn)
    return q, s


def v3_fp8_weights(seed=0):
    """bf16 master weights, their e4m3 blocks and the dequantised values."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    wt = dict(router=(torch.randn(E, H, device=DEV, generator=g) * 0.02).to(torch.bfloat16),
              bias=torch.randn(E, device=DEV, generator=g) * 0.02)
    for name, n, kd, experts in (("gate_up", 2 * I, H, E), ("down", H, I, E),
                                 ("sgu", 2 * I, H, 1), ("sd", H, I, 1)):
        q = torch.empty(experts, n, kd, dtype=torch.float8_e4m3fn, device=DEV)
        s = torch.empty(experts, n // 128, kd // 128, device=DEV)
        deq = torch.empty(experts, n, kd, dtype=torch.bfloat16, device=DEV)
        for e in range(experts):
            w = torch.randn(n, kd, device=DEV, generator=g) * 0.02
            q[e], s[e] = block_quant(w)
            deq[e] = (q[e].float() * s[e].repeat_interleave(128, 0).repeat_interleave(128, 1)
                      ).to(torch.bfloat16)
        wt[name], wt[name + "_s"], wt[name + "_deq"] = q, s, deq
    return wt


def torch_reference(x, wt):
    """The layer from the dequantised weights and the unquantised x, f32."""
    T = x.shape[0]
    ids, w = torch_route(x, wt)
    xf = x.float()

    def ffn(rows, gu, d):
        g, u = (rows @ gu.float().T).chunk(2, dim=-1)
        return (F.silu(g) * u) @ d.float().T

    out = torch.zeros(T, H, device=DEV)
    flat = ids.view(-1)
    order = torch.argsort(flat, stable=True)
    counts = torch.bincount(flat, minlength=E).tolist()
    start = 0
    for e, c in enumerate(counts):
        if c:
            sel = order[start:start + c]
            tok = sel // K
            out.index_add_(0, tok, ffn(xf[tok], wt["gate_up_deq"][e], wt["down_deq"][e])
                           * w.view(-1)[sel][:, None])
            start += c
    return out + ffn(xf, wt["sgu_deq"][0], wt["sd_deq"][0])


def fp8_args(x, wt):
    return [x, wt["router"], wt["bias"], wt["gate_up"], wt["down"], wt["gate_up_s"],
            wt["down_s"], wt["sgu"], wt["sd"], wt["sgu_s"], wt["sd_s"]]


def bf16_args(x, wt):
    return [x, wt["router"], wt["bias"], wt["gate_up_deq"], wt["down_deq"], wt["sgu_deq"],
            wt["sd_deq"]]


def check_v3(lib, wt, log, report):
    fp8, bf16 = Kernel(lib, "v3_fp8_layer"), Kernel(lib, "v3_bf16_layer")
    g = torch.Generator(device=DEV).manual_seed(7)
    for T in (64, 4096):
        x = torch.randn(T, H, device=DEV, generator=g).to(torch.bfloat16)
        y = torch.full((T, H), float("nan"), dtype=torch.bfloat16, device=DEV)
        fp8(fp8_args(x, wt), [y], T)
        y2 = torch.empty_like(y)
        fp8(fp8_args(x, wt), [y2], T, ws_fill=255)
        yb = torch.empty_like(y)
        bf16(bf16_args(x, wt), [yb], T)
        ref = torch_reference(x, wt)
        torch.cuda.synchronize()
        tok = lambda a: ((a.float() - ref).norm(dim=1) / ref.norm(dim=1))
        e8, eb = tok(y), tok(yb)
        same = torch.equal(y.view(torch.int16), y2.view(torch.int16))
        report[f"v3 T={T}"] = {"fp8_token_rel_err_max": e8.max().item(),
                               "fp8_token_rel_err_mean": e8.mean().item(),
                               "bf16_token_rel_err_max": eb.max().item(),
                               "deterministic": same}
        log(f"check v3 T={T}: FP8 layer vs dequantised f32 reference per-token relative error "
            f"max {e8.max().item():.3e} mean {e8.mean().item():.3e} (bf16 layer on the "
            f"dequantised weights: max {eb.max().item():.3e}); deterministic {same}")
        if not (e8.max().item() <= 0.1 and same and torch.isfinite(y.float()).all()):
            raise SystemExit(f"FAILED v3 FP8 layer T={T}")


def timings(lib, wt, log, report):
    fp8, bf16 = Kernel(lib, "v3_fp8_layer"), Kernel(lib, "v3_bf16_layer")
    skewed = dict(wt, bias=wt["bias"] + torch.exp(-torch.arange(E, device=DEV) / 24.0))
    rows = []
    log("\n    T  routing |  FP8 ms | bf16 ms | bf16/FP8")
    Ts = [int(t) for t in os.environ.get("MOE_FP8_TIMES", "1,64,4096,16384,65536").split(",")]
    for T in Ts:
        for name, w in (("drawn", wt), ("skewed", skewed)):
            x = torch.randn(T, H, device=DEV).to(torch.bfloat16)
            y = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
            yb = torch.empty_like(y)
            a8, ab = fp8_args(x, w), bf16_args(x, w)
            fp8(a8, [y], T)
            bf16(ab, [yb], T)
            # graphed_ms warms up on its own stream: these calls (same
            # workspace) must be done first.
            torch.cuda.synchronize()
            inner = 20 if T <= 64 else 2
            t8 = graphed_ms(lambda: fp8(a8, [y], T), inner)
            tb = graphed_ms(lambda: bf16(ab, [yb], T), inner)
            rows.append({"T": T, "routing": name, "fp8_ms": t8, "bf16_ms": tb})
            log(f"{T:6d} {name:7s} | {t8:7.3f} | {tb:7.3f} | {tb / t8:5.2f}")
    report["timings"] = rows


def profile(lib, wt, log, report):
    """Per-kernel GPU time of one FP8 layer call (torch.profiler, CUPTI)."""
    from torch.profiler import ProfilerActivity
    fp8 = Kernel(lib, "v3_fp8_layer")
    report["profile"] = {}
    for T in [int(t) for t in os.environ["MOE_FP8_PROFILE"].split(",")]:
        x = torch.randn(T, H, device=DEV).to(torch.bfloat16)
        y = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
        args = fp8_args(x, wt)
        for _ in range(3):
            fp8(args, [y], T)
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(5):
                fp8(args, [y], T)
            torch.cuda.synchronize()
        kernels = {}
        for ev in prof.events():
            if ev.device_type == torch.autograd.DeviceType.CUDA:
                kernels.setdefault(ev.name, []).append(ev.device_time)
        rows = sorted(((sum(v) / 5 / 1e3, len(v) // 5, k) for k, v in kernels.items()),
                      reverse=True)
        report["profile"][T] = [{"ms": ms, "calls": n, "kernel": k} for ms, n, k in rows]
        log(f"\nprofile T={T}: {sum(r[0] for r in rows):.3f} ms of kernels per call")
        for ms, n, k in rows:
            log(f"  {ms:8.3f} ms  x{n}  {k[:110]}")


def main():
    prepared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    lib, secs = nvcc_shared(os.path.join(prepared, "fp8.cu"), os.path.join(out, "fp8.so"),
                            load_manifest(prepared, "fp8"))
    lines, report = [], {"nvcc_s": secs}

    def log(s):
        print(s, flush=True)
        lines.append(s)

    try:
        wt = v3_fp8_weights()
        if not os.environ.get("MOE_FP8_TIMES"):
            check_small(lib, np.load(os.path.join(prepared, "cpu_reference.npz")), log,
                        report)
            check_v3(lib, wt, log, report)
        if os.environ.get("MOE_FP8_PROFILE"):
            profile(lib, wt, log, report)
        if not os.environ.get("MOE_FP8_QUICK"):
            timings(lib, wt, log, report)
    finally:
        with open(os.path.join(out, "fp8_layer.json"), "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
