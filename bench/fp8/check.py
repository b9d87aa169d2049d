"""The FP8 kernels (include/moe/Runtime/cuda/ExpertsFp8Sm90.cuh) on the GPU:
checked, then timed. Runs on the device machine (PyTorch, nvcc, an H200):

    python3 bench/fp8/check.py [--out DIR] [--no-time] [--small]
    compute-sanitizer --tool memcheck python3 bench/fp8/check.py --small

1. quantizeRowsKernel against the NumPy oracle (python/tests/
   fp8_reference.act_quant), values and scales bitwise: random bf16 rows
   over many magnitudes with zero, NaN and infinite groups, plain and ue8m0,
   and gathered (rows from a row map with dropped slots).
2. The block-scaled grouped GEMMs against the exact reference (each
   128-wide K block summed exactly in f64, rounded once to f32, times the
   row scale, times the weight block's scale, added in f32: the CPU
   lowering's arithmetic), on act_quant / weight_quant data, at a small
   shape and DeepSeek-V3's, routed (uneven experts, empty ones) and shared.
   The tensor cores sum a block of e4m3 products with fewer bits than f32,
   so the check is a bound: |gpu - exact| <= 2^-8 |exact| (the rounding to
   the output, 0 for f32 outputs) + 2^-11 * m, where m = Σ_b |S_b|_abs
   s_a s_w is the sum of the magnitudes of the products (the scale of
   what can round). The measured ratios are printed.
3. Timings (medians of CUDA events, variants alternating): the routed
   gate/up and down GEMMs at T = 4096 and 16384 tokens x 8 slots (uniform
   routing), TFLOP/s, with the narrow (128 x 128) and the wide (128 x 256,
   the compiler's default) tile, next to torch's dense FP8
   GEMM (torch._scaled_mm, row-wise scales) and bf16 GEMM on the same flops,
   torch's grouped FP8 paths on the same gate/up GEMM
   (torch._scaled_grouped_mm, torch._scaled_mm per expert; row-wise
   scales) and the copy bandwidth, all in the same run.
Details go to DIR/fp8_check.json.
"""

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
import fp8_reference as ref  # noqa: E402

F32 = np.float32
DEV = "cuda"


def build(out_dir, include):
    so = os.path.join(out_dir, "fp8_kernels.so")
    t0 = time.time()
    subprocess.run(["nvcc", "-std=c++17", "-O3", "-I", include,
                    "-gencode", "arch=compute_90a,code=sm_90a", "-shared", "-Xcompiler",
                    "-fPIC", os.path.join(ROOT, "bench", "fp8", "fp8_kernels.cu"), "-o", so,
                    "-lcuda"], check=True)
    print(f"built in {time.time() - t0:.0f} s")
    return ctypes.CDLL(so)


def ptr(t):
    return ctypes.c_void_p(t.data_ptr()) if t is not None else ctypes.c_void_p(0)


def stream():
    return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)


def call(fn, *args):
    err = fn(*args)
    if err != 0:
        raise RuntimeError(f"{fn.__name__} returned CUDA error {err}")


# -- quantisation ---------------------------------------------------------------

def bf16_rows(gen, T, W):
    """bf16 rows, each group of 128 at its own magnitude (2^-30 .. 2^20)."""
    x = torch.randn(T, W, generator=gen, device=DEV)
    mag = 2.0 ** torch.randint(-30, 20, (T, W // 128, 1), generator=gen, device=DEV)
    x = (x.view(T, W // 128, 128) * mag).view(T, W)
    x[0, :128] = 0.0
    if T > 3:
        x[1, 5] = float("nan")
        x[2, 130] = float("inf")
        x[3, 7] = -float("inf")
    return x.to(torch.bfloat16)


def check_quantize(lib, gen, report):
    rng = np.random.default_rng(0)
    for W in (256, 2048, 7168):
        fn = getattr(lib, f"moe_fp8_quantize_{W}")
        for ue8m0 in (0, 1):
            for gathered in (False, True):
                T = 333
                x = bf16_rows(gen, T, W)
                if gathered:
                    R = 3 * T
                    src = rng.integers(-1, T, size=R).astype(np.int32)
                    source = torch.from_numpy(src).to(DEV)
                else:
                    R, src, source = T, None, None
                values = torch.empty(R, W, dtype=torch.uint8, device=DEV)
                scales = torch.empty(R, W // 128, dtype=torch.float32, device=DEV)
                call(fn, ptr(x), ptr(source), ctypes.c_int64(R), ctypes.c_int(ue8m0),
                     ptr(values), ptr(scales), stream())
                torch.cuda.synchronize()
                xf = x.float().cpu().numpy()
                want_v, want_s = ref.act_quant(xf, 128, "ue8m0" if ue8m0 else None)
                if gathered:
                    keep = src >= 0
                    wv = np.zeros((R, W), np.uint8)
                    ws = np.zeros((R, W // 128), F32)
                    wv[keep], ws[keep] = want_v[src[keep]], want_s[src[keep]]
                    want_v, want_s = wv, ws
                got_v, got_s = values.cpu().numpy(), scales.cpu().numpy()
                ok = (np.array_equal(got_v, want_v)
                      and np.array_equal(got_s.view(np.uint32), want_s.view(np.uint32)))
                name = f"quantize W={W} ue8m0={ue8m0} gathered={gathered}"
                report["checks"].append({"name": name, "bitwise": bool(ok)})
                print(f"{name}: {'bitwise' if ok else 'MISMATCH'}")
                if not ok:
                    bad_v = np.argwhere(got_v != want_v)[:5].tolist()
                    bad_s = np.argwhere(got_s.view(np.uint32) != want_s.view(np.uint32))[:5]
                    raise SystemExit(f"{name}: values differ at {bad_v}, scales at "
                                     f"{bad_s.tolist()}: " + ", ".join(
                                         f"{got_s[tuple(i)]!r} vs {want_s[tuple(i)]!r}"
                                         for i in bad_s))


# -- GEMMs ------------------------------------------------------------------------

TABLE = torch.from_numpy(ref._TABLE.astype(np.float64)).to(DEV)


def decode(bits):
    return TABLE[bits.long()]


def quantized_weights(gen, E, rows, K):
    """Checkpoint-like e4m3 weights: normal values, per 128x128 block amax
    (at least 1e-4), scale = amax / 448, codes = torch's e4m3fn conversion
    of w / scale (any valid codes do: the reference decodes what the kernel
    reads). Expert by expert, to stay small."""
    nb, kb = -(-rows // 128), K // 128
    codes = torch.empty(E, rows, K, dtype=torch.uint8, device=DEV)
    scales = torch.empty(E, nb, kb, dtype=torch.float32, device=DEV)
    for e in range(E):
        w = torch.randn(rows, K, generator=gen, device=DEV) * 0.02
        pad = torch.zeros(nb * 128, K, device=DEV)
        pad[:rows] = w.abs()
        amax = pad.view(nb, 128, kb, 128).amax(dim=(1, 3)).clamp_min(1e-4)
        scales[e] = amax / 448.0
        full = scales[e].repeat_interleave(128, 0).repeat_interleave(128, 1)[:rows]
        codes[e] = (w / full).to(torch.float8_e4m3fn).view(torch.uint8)
    return codes, scales


def quantized_rows(gen, R, K):
    """act_quant-like rows (torch's conversion for the codes)."""
    x = torch.randn(R, K, generator=gen, device=DEV)
    s = (x.view(R, K // 128, 128).abs().amax(-1).clamp_min(1e-4) / 448.0).float()
    q = (x / s.repeat_interleave(128, 1)).to(torch.float8_e4m3fn).view(torch.uint8)
    return q.contiguous(), s.contiguous()


def exact(q_a, s_a, q_w, s_w, offsets):
    """The reference GEMM [R, WR] (f64 block sums -> f32, * s_a, * s_w, f32
    acc) and the magnitude m of each output (the same with |a| |w|, f64)."""
    R, K = q_a.shape
    E, WR, _ = q_w.shape
    kb = K // 128
    out = torch.zeros(R, WR, dtype=torch.float32, device=DEV)
    mag = torch.zeros(R, WR, dtype=torch.float64, device=DEV)
    for e in range(E):
        lo, hi = int(offsets[e]), int(offsets[e + 1])
        if hi <= lo:
            continue
        a = decode(q_a[lo:hi]).view(hi - lo, kb, 128).transpose(0, 1)     # [kb, r, 128]
        w = decode(q_w[e]).view(WR, kb, 128).permute(1, 2, 0)             # [kb, 128, WR]
        S = torch.bmm(a, w).float()                                         # exact, rounded
        M = torch.bmm(a.abs(), w.abs())
        sw = s_w[e].repeat_interleave(128, 0)[:WR].t()                      # [kb, WR]
        acc = torch.zeros(hi - lo, WR, dtype=torch.float32, device=DEV)
        m = torch.zeros(hi - lo, WR, dtype=torch.float64, device=DEV)
        for b in range(kb):
            acc = acc + (S[b] * s_a[lo:hi, b:b + 1]) * sw[b][None, :]
            m += M[b] * s_a[lo:hi, b:b + 1].double() * sw[b][None, :].double()
        out[lo:hi], mag[lo:hi] = acc, m
    return out, mag


def offsets_for(gen, R, E, skew):
    if E == 1:
        return torch.tensor([0, R], dtype=torch.int32)
    w = torch.rand(E, generator=gen, device=DEV) ** (4.0 if skew else 0.0)
    w[torch.randint(0, E, (max(1, E // 8),), generator=gen, device=DEV)] = 0.0
    counts = torch.floor(w / w.sum() * R).long().cpu()
    counts[0] += R - int(counts.sum())
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).int()


def run_gemm(lib, name, E, R, q_a, s_a, q_w, s_w, offsets, out):
    tile_bytes = lib.moe_fp8_row_tile_bytes()
    slots = -(-R // 128) + E
    tiles = torch.empty(slots * tile_bytes, dtype=torch.uint8, device=DEV)
    off = offsets.to(DEV)
    call(getattr(lib, f"moe_fp8_tile_map_{E}"), ptr(off), ctypes.c_int64(R), ptr(tiles),
         stream())
    call(getattr(lib, f"moe_fp8_gemm_{name}"), ctypes.c_int64(R), ptr(q_a), ptr(s_a),
         ptr(q_w), ptr(s_w), ptr(tiles), ptr(out), stream())
    return tiles, off


GEMMS = [  # name, E, N, K, dual, out dtype
    ("small_up", 8, 256, 512, True, torch.bfloat16),
    ("small_down", 8, 512, 256, False, torch.bfloat16),
    ("small_down_f32", 8, 512, 256, False, torch.float32),
    ("v3_up", 256, 2048, 7168, True, torch.bfloat16),
    ("v3_down", 256, 7168, 2048, False, torch.bfloat16),
    ("v3_shared_up", 1, 2048, 7168, True, torch.bfloat16),
    ("v3_shared_down", 1, 7168, 2048, False, torch.bfloat16),
    ("small_up_wide", 8, 256, 512, True, torch.bfloat16),
    ("small_down_wide", 8, 512, 256, False, torch.bfloat16),
    ("v3_up_wide", 256, 2048, 7168, True, torch.bfloat16),
    ("v3_down_wide", 256, 7168, 2048, False, torch.bfloat16),
]


def check_gemms(lib, gen, report, small=False):
    for name, E, N, K, dual, odt in GEMMS:
        if small and not name.startswith("small"):
            continue
        WR = 2 * N if dual else N
        q_w, s_w = quantized_weights(gen, E, WR, K)
        for R, skew in ((700, False), (2000, True), (5, False)):
            if E == 1 and skew:
                continue
            q_a, s_a = quantized_rows(gen, R, K)
            offsets = offsets_for(gen, R, E, skew)
            out = torch.full((R, N), float("nan"), dtype=odt, device=DEV)
            run_gemm(lib, name, E, R, q_a, s_a, q_w, s_w, offsets, out)
            torch.cuda.synchronize()
            pre, mag = exact(q_a, s_a, q_w, s_w, offsets)
            ulp = 2.0 ** -8 if odt == torch.bfloat16 else 0.0  # half a bf16 ulp
            if dual:
                # h = silu(g) u: an error eg in g and eu in u moves h by at
                # most 1.1 |u| eg + |silu(g)| eu (|silu'| <= 1.1).
                g, u = pre[:, :N], pre[:, N:]
                silu = g / (1.0 + torch.exp(-g))
                want = silu * u
                acc_bound = 2.0 ** -11 * (1.1 * u.abs().double() * mag[:, :N]
                                          + silu.abs().double() * mag[:, N:])
                scale = mag[:, :N] * u.abs().double() + mag[:, N:] * silu.abs().double()
                # torch's exp and CUDA's expf differ by an ulp or two.
                acc_bound += 2.0 ** -20 * want.abs().double()
            else:
                want, acc_bound, scale = pre, 2.0 ** -11 * mag, mag
            got = out.float()
            owned = torch.zeros(R, dtype=torch.bool, device=DEV)
            owned[int(offsets[0]):int(offsets[-1])] = True
            err = (got - want).abs().double()
            bound = ulp * want.abs().double() + acc_bound
            acc_ratio = float(((err - ulp * want.abs().double()).clamp_min(0) /
                               (scale + 1e-30))[owned].max()) if owned.any() else 0.0
            over = (err > bound + 1e-30) & owned[:, None]
            ok = not bool(over.any()) and bool(torch.isfinite(got[owned]).all())
            entry = {"name": f"gemm {name} R={R} skew={skew}", "within_bound": ok,
                     "max_err_over_magnitude": acc_ratio}
            report["checks"].append(entry)
            print(f"gemm {name:15s} R={R:5d} skew={skew!s:5s}: max |err| / m = "
                  f"{acc_ratio:.2e}  {'within bound' if ok else 'OUT OF BOUND'}")
            if not ok:
                idx = torch.nonzero(over)[:5].tolist()
                raise SystemExit(f"gemm {name} R={R}: out of bound at {idx}")


# -- timing -------------------------------------------------------------------------

def median_ms(fns, reps=20):
    """Medians of CUDA-event timings of each fn, the fns alternating."""
    times = [[] for _ in fns]
    for f in fns:
        f()
    torch.cuda.synchronize()
    for _ in range(reps):
        for i, f in enumerate(fns):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            f()
            b.record()
            torch.cuda.synchronize()
            times[i].append(a.elapsed_time(b))
    return [float(np.median(t)) for t in times]


def timings(lib, gen, report, Ts=(4096, 16384)):
    E, H, I = 256, 7168, 2048
    q_up, s_up = quantized_weights(gen, E, 2 * I, H)
    q_dn, s_dn = quantized_weights(gen, E, H, I)
    rows_table = []
    for T in Ts:
        R = 8 * T
        offsets = torch.tensor([R * e // E for e in range(E + 1)], dtype=torch.int32)
        q_a = torch.randint(0, 0x7E, (R, H), generator=gen, device=DEV, dtype=torch.uint8)
        s_a = torch.rand(R, H // 128, generator=gen, device=DEV) * 1e-2
        q_h = torch.randint(0, 0x7E, (R, I), generator=gen, device=DEV, dtype=torch.uint8)
        s_h = torch.rand(R, I // 128, generator=gen, device=DEV) * 1e-2
        h = torch.empty(R, I, dtype=torch.bfloat16, device=DEV)
        y = torch.empty(R, H, dtype=torch.bfloat16, device=DEV)
        tiles_up, off = run_gemm(lib, "v3_up", E, R, q_a, s_a, q_up, s_up, offsets, h)
        tiles_dn, _ = run_gemm(lib, "v3_down", E, R, q_h, s_h, q_dn, s_dn, offsets, y)
        def up_fn(suffix):
            f = getattr(lib, "moe_fp8_gemm_v3_up" + suffix)
            return lambda: call(f, ctypes.c_int64(R), ptr(q_a), ptr(s_a), ptr(q_up),
                                ptr(s_up), ptr(tiles_up), ptr(h), stream())

        def down_fn(suffix):
            f = getattr(lib, "moe_fp8_gemm_v3_down" + suffix)
            return lambda: call(f, ctypes.c_int64(R), ptr(q_h), ptr(s_h), ptr(q_dn),
                                ptr(s_dn), ptr(tiles_dn), ptr(y), stream())
        # torch's dense GEMMs on the same flops: [R, H] x [H, 2I] and [R, I] x [I, H].
        a8 = q_a.view(torch.float8_e4m3fn)
        b8 = torch.randint(0, 0x7E, (2 * I, H), generator=gen, device=DEV,
                           dtype=torch.uint8).view(torch.float8_e4m3fn)
        sa = torch.ones(R, 1, device=DEV)
        sb = torch.ones(1, 2 * I, device=DEV)
        dense8 = lambda: torch._scaled_mm(a8, b8.t(), scale_a=sa, scale_b=sb,
                                          out_dtype=torch.bfloat16)
        a16 = torch.randn(R, H, device=DEV, dtype=torch.bfloat16)
        b16 = torch.randn(2 * I, H, device=DEV, dtype=torch.bfloat16)
        dense16 = lambda: a16 @ b16.t()
        src = torch.empty(R * H // 2, dtype=torch.int32, device=DEV)
        dst = torch.empty_like(src)
        copy = lambda: dst.copy_(src)
        # torch's own FP8 paths on the same routed gate/up GEMM, row-wise
        # scales (one per row of A and per weight row, not per 128 of K):
        # torch._scaled_grouped_mm over the offsets, and torch._scaled_mm
        # once per expert. A path this torch lacks is reported, not timed.
        w8 = q_up.view(torch.float8_e4m3fn)
        ends = off[1:].to(DEV)
        sa_rows = torch.ones(R, device=DEV)
        sb_rows = torch.ones(E, 2 * I, device=DEV)
        bounds = offsets.tolist()
        torch_paths = {
            "torch._scaled_grouped_mm": lambda: torch._scaled_grouped_mm(
                a8, w8.transpose(-2, -1), sa_rows, sb_rows, offs=ends,
                out_dtype=torch.bfloat16),
            "torch._scaled_mm per expert": lambda: [
                torch._scaled_mm(a8[bounds[e]:bounds[e + 1]], w8[e].t(),
                                 scale_a=sa[bounds[e]:bounds[e + 1]], scale_b=sb,
                                 out_dtype=torch.bfloat16)
                for e in range(E)],
        }
        usable, unsupported = [], {}
        for name, fn in torch_paths.items():
            try:
                fn()
                torch.cuda.synchronize()
                usable.append(name)
            except Exception as e:  # noqa: BLE001 - reported as such
                unsupported[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        times = median_ms([up_fn(""), down_fn(""), up_fn("_wide"), down_fn("_wide"), dense8,
                           dense16, copy] + [torch_paths[n] for n in usable])
        t_up, t_down, t_upw, t_downw, t8, t16, tc = times[:7]
        f_up, f_down = 2.0 * R * 2 * I * H, 2.0 * R * H * I
        row = {"T": T, "rows": R, "up_ms": t_up, "down_ms": t_down,
               "up_tflops": f_up / t_up / 1e9, "down_tflops": f_down / t_down / 1e9,
               "wide_up_ms": t_upw, "wide_down_ms": t_downw,
               "wide_up_tflops": f_up / t_upw / 1e9, "wide_down_tflops": f_down / t_downw / 1e9,
               "torch_grouped_up": {n: {"ms": t, "tflops": f_up / t / 1e9}
                                    for n, t in zip(usable, times[7:])},
               "torch_grouped_unsupported": unsupported,
               "torch_fp8_dense_tflops": f_up / t8 / 1e9,
               "torch_bf16_dense_tflops": f_up / t16 / 1e9,
               "copy_gbps": 2 * src.numel() * 4 / tc / 1e6}
        rows_table.append(row)
        del q_a, s_a, q_h, s_h, h, y, a16, b16, src, dst
        torch.cuda.empty_cache()
    report["timings"] = rows_table
    print("\n           narrow tile (128 x 128)         | wide tile (128 x 256)\n"
          "   T   rows    up ms  TFLOP/s  down ms  TFLOP/s |       up ms TFLOP/s down ms "
          "TFLOP/s | torch fp8  bf16 TFLOP/s | copy GB/s")
    for r in rows_table:
        print(f"{r['T']:5d} {r['rows']:6d} {r['up_ms']:8.3f} {r['up_tflops']:8.0f} "
              f"{r['down_ms']:8.3f} {r['down_tflops']:8.0f} | {r['wide_up_ms']:11.3f} "
              f"{r['wide_up_tflops']:7.0f} {r['wide_down_ms']:7.3f} {r['wide_down_tflops']:7.0f} "
              f"| {r['torch_fp8_dense_tflops']:9.0f} "
              f"{r['torch_bf16_dense_tflops']:5.0f} | {r['copy_gbps']:9.0f}")
    for r in rows_table:
        for name, t in r["torch_grouped_up"].items():
            print(f"  T={r['T']}: gate/up by {name}: {t['ms']:.3f} ms, "
                  f"{t['tflops']:.0f} TFLOP/s (row-wise scales)")
        for name, why in r["torch_grouped_unsupported"].items():
            print(f"  T={r['T']}: {name} not available: {why}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.environ.get("OUT", "/tmp/fp8"))
    p.add_argument("--no-time", action="store_true")
    p.add_argument("--small", action="store_true",
                   help="the small GEMM shapes only, no timings (for compute-sanitizer)")
    p.add_argument("--include", default=os.path.join(ROOT, "include"),
                   help="the runtime headers to build against (to time a variant)")
    p.add_argument("--no-check", action="store_true", help="only the timings")
    p.add_argument("--times", default="4096,16384", help="the T to time")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lib = build(args.out, args.include)
    gen = torch.Generator(device=DEV).manual_seed(1)
    report = {"device": torch.cuda.get_device_name(), "checks": []}
    try:
        if not args.no_check:
            check_quantize(lib, gen, report)
            check_gemms(lib, gen, report, small=args.small)
        if not args.no_time and not args.small:
            timings(lib, gen, report, [int(t) for t in args.times.split(",")])
    finally:
        with open(os.path.join(args.out, "fp8_check.json"), "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
