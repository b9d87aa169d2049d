#!/usr/bin/env python3
"""GPU check and benchmark of the emitted dispatch kernels (runs on the GPU
machine; PyTorch, NumPy, nvcc).

    python3 bench/dispatch/bench.py <prepared-dir> <out-dir>

Checks every launcher of bench/dispatch/dispatch.mlir bitwise: against the
compiled CPU reference (cpu_reference.npz, H = 64) and against the NumPy
reference (python/tests/reference.py, held equal to the CPU lowering by the
test suite) on fresh random inputs, T in {1, 7, 4096, 65536}, uniform and
skewed routing, capacity off / probs / position; outputs poisoned first;
two runs bitwise equal. Then times them (CUDA-graph replays, median of CUDA
events) next to PyTorch doing the same step: argsort + index_select for the
permute, index_add_ for the combine, a moe_align_block_size-style metadata
step, and a device copy of the same bytes for the bandwidth ratio. Writes
results.json and table.md under <out-dir>.
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import reference as ref  # noqa: E402
from gpu_common import (graphed_ms as graphed, load_manifest, median_ms, nvcc_shared,  # noqa: E402
                        write_outputs)
from inputs import E, K, make_ids, make_weights  # noqa: E402

DEV = torch.device("cuda")
TOPO = (8, 8, 4)
CF = 1.25


def build(prepared, out):
    return nvcc_shared(os.path.join(prepared, "dispatch.cu"),
                       os.path.join(out, "libdispatch.so"), load_manifest(prepared, "dispatch"))[0]


class Launcher:
    """A launcher of dispatch.mlir called with torch tensors."""

    def __init__(self, lib, name, nargs):
        self.name = name
        spec = lib.manifest[name]
        if len(spec.inputs) + len(spec.outputs) != nargs:
            raise RuntimeError(f"{name}: the manifest has {len(spec.inputs)} inputs and "
                               f"{len(spec.outputs)} outputs, the bench passes {nargs} tensors")
        self.fn = spec.bind(lib)
        self.size = spec.bind_workspace_size(lib)  # None: no workspace parameter
        self.ws = None

    def workspace(self, T):
        if self.size is None:
            return []
        n = int(self.size(T))
        if self.ws is None or self.ws.numel() < n:
            self.ws = torch.empty(max(n, 1), dtype=torch.uint8, device=DEV)
        return [self.ws.data_ptr()]

    def __call__(self, tensors, T, stream=None):
        ptrs = [t.data_ptr() for t in tensors] + self.workspace(T)
        s = stream if stream is not None else torch.cuda.current_stream().cuda_stream
        err = self.fn(*ptrs, T, s)
        if err != 0:
            raise RuntimeError(f"{self.name}: CUDA error {err}")


def bits(t):
    """A bf16 tensor's raw bits as a NumPy uint16 array."""
    return t.view(torch.int16).cpu().numpy().view(np.uint16)


def from_bits(a):
    return torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).to(DEV).view(torch.bfloat16)


def poisoned(shape, dtype):
    t = torch.empty(shape, dtype=dtype, device=DEV)
    if dtype == torch.bool:
        t.fill_(True)
    elif dtype.is_floating_point:
        t.fill_(float("nan"))
    else:
        t.fill_(-7)
    return t


class Suite:
    def __init__(self, lib):
        self.layout = Launcher(lib, "layout", 5)
        self.fns = {}
        for suffix in ("", "_h64", "_h8"):
            for base in ("permute", "permute_probs", "permute_position"):
                if base + suffix in lib.manifest:
                    self.fns[base + suffix] = Launcher(lib, base + suffix, 6)
            for base, n in (("combine", 5), ("combine_noshared", 4)):
                if base + suffix in lib.manifest:
                    self.fns[base + suffix] = Launcher(lib, base + suffix, n)

    def run_layout(self, ids):
        T = ids.shape[0]
        outs = [poisoned((E,), torch.int32), poisoned((64,), torch.int32),
                poisoned((8,), torch.int32), poisoned((T, 64), torch.bool)]
        self.layout([ids] + outs, T)
        return outs

    def run_permute(self, name, x, ids, w):
        T, H = x.shape
        outs = [poisoned((T * K, H), torch.bfloat16), poisoned((T, K), torch.int32),
                poisoned((E + 1,), torch.int32)]
        self.fns[name]([x, ids, w] + outs, T)
        return outs

    def run_combine(self, name, rows, row_map, w, shared):
        T = row_map.shape[0]
        out = poisoned((T, rows.shape[1]), torch.bfloat16)
        args = [rows, row_map, w] + ([shared] if shared is not None else []) + [out]
        self.fns[name](args, T)
        return out


def policy_of(name):
    if "position" in name:
        return CF, "position"
    if "probs" in name:
        return CF, "probs"
    return None, "probs"


def check_cpu_cases(suite, prepared, log):
    data = np.load(os.path.join(prepared, "cpu_reference.npz"))
    keys = sorted({k.rsplit("/", 1)[0] for k in data.files})
    for key in keys:
        name = key.split("/")[0]
        ins = [data[f"{key}/in{i}"] for i in range(5) if f"{key}/in{i}" in data.files]
        outs = [data[f"{key}/out{i}"] for i in range(5) if f"{key}/out{i}" in data.files]
        if name == "layout":
            got = suite.run_layout(torch.from_numpy(ins[0]).to(DEV))
            got = [g.cpu().numpy() for g in got]
        elif name.startswith("permute"):
            rows, row_map, off = suite.run_permute(
                name, from_bits(ins[0]), torch.from_numpy(ins[1]).to(DEV),
                torch.from_numpy(ins[2]).to(DEV))
            got = [bits(rows), row_map.cpu().numpy(), off.cpu().numpy()]
            outs[0] = ref.f32_to_bf16_bits(outs[0])
        else:
            shared = from_bits(ins[3]) if len(ins) > 3 else None
            out = suite.run_combine(name, from_bits(ins[0]), torch.from_numpy(ins[1]).to(DEV),
                                    torch.from_numpy(ins[2]).to(DEV), shared)
            got = [bits(out)]
            outs[0] = ref.f32_to_bf16_bits(outs[0])
        for i, (g, w) in enumerate(zip(got, outs)):
            if not np.array_equal(g, w):
                raise SystemExit(f"FAILED cpu case {key} output {i}: "
                                 f"{int((g != w).sum())} entries differ")
    log(f"check cpu-reference cases ok: {len(keys)} cases bitwise")
    return len(keys)


def check_fresh(suite, T, dist, rng, log):
    """Every H = 7168 launcher on fresh inputs against the NumPy reference."""
    H = 7168
    ids_np = make_ids(rng, T, dist)
    w_np = make_weights(rng, T, dist)
    ids, w = torch.from_numpy(ids_np).to(DEV), torch.from_numpy(w_np).to(DEV)
    g = torch.Generator(device=DEV).manual_seed(int(rng.integers(1 << 31)))
    x = torch.randn(T, H, device=DEV, generator=g).to(torch.bfloat16)
    checked = []

    got = [t.cpu().numpy() for t in suite.run_layout(ids)]
    for i, (a, b) in enumerate(zip(got, ref.dispatch_layout_fast(ids_np, *TOPO))):
        if not np.array_equal(a, b):
            raise SystemExit(f"FAILED layout {dist} T={T} output {i}")
    checked.append("layout")

    full_rows = T <= 4096
    x_np = bits(x) if full_rows else None
    row_map_probs = None
    for name in ("permute", "permute_probs", "permute_position"):
        cf, policy = policy_of(name)
        rows, row_map, off = suite.run_permute(name, x, ids, w)
        again = suite.run_permute(name, x, ids, w)
        if not all(torch.equal(a.view(torch.int16) if a.dtype == torch.bfloat16 else a,
                               b.view(torch.int16) if b.dtype == torch.bfloat16 else b)
                   for a, b in zip((rows, row_map, off), again)):
            raise SystemExit(f"FAILED {name} {dist} T={T}: two runs differ")
        del again
        source, want_map, want_off = ref.permute_indices(ids_np, w_np, E, cf, policy)
        if not np.array_equal(off.cpu().numpy(), want_off):
            raise SystemExit(f"FAILED {name} {dist} T={T}: offsets")
        if not np.array_equal(row_map.cpu().numpy(), want_map):
            raise SystemExit(f"FAILED {name} {dist} T={T}: row map")
        n = len(source)
        if full_rows:
            want_rows = np.zeros((T * K, H), np.uint16)
            want_rows[:n] = x_np[source // K]
            ok = np.array_equal(bits(rows), want_rows)
        else:
            # The rows the CPU index says, copied on the device (a copy is
            # exact), then compared there: 7.5 GB do not need the host.
            tok = torch.from_numpy(source // K).to(DEV)
            ok = torch.equal(rows[:n].view(torch.int16), x.index_select(0, tok).view(torch.int16)) \
                and not rows[n:].view(torch.int16).any().item()
        if not ok:
            raise SystemExit(f"FAILED {name} {dist} T={T}: rows")
        checked.append(name)
        if name == "permute_probs":
            row_map_probs, rows_probs = row_map, rows
        else:
            del rows

    # Combine of random expert outputs over the probs row map.
    expert_out = torch.randn(T * K, H, device=DEV, generator=g).to(torch.bfloat16)
    shared = torch.randn(T, H, device=DEV, generator=g).to(torch.bfloat16)
    del rows_probs
    map_np = row_map_probs.cpu().numpy()
    eo = ref.bf16_bits_to_f32(bits(expert_out))
    sh = ref.bf16_bits_to_f32(bits(shared))
    # One f32 accumulation serves both: the shared output is added last.
    acc = ref.combine_exact(eo, map_np, w_np)
    del eo
    for name, s in (("combine", shared), ("combine_noshared", None)):
        out = suite.run_combine(name, expert_out, row_map_probs, w, s)
        again = suite.run_combine(name, expert_out, row_map_probs, w, s)
        if not torch.equal(out.view(torch.int16), again.view(torch.int16)):
            raise SystemExit(f"FAILED {name} {dist} T={T}: two runs differ")
        want = ref.f32_to_bf16_bits(acc + sh if s is not None else acc)
        got = bits(out)
        if not np.array_equal(got, want):
            raise SystemExit(f"FAILED {name} {dist} T={T}: "
                             f"{int((got != want).sum())} outputs differ")
        checked.append(name)
    log(f"check T={T:<6} {dist:<8} ok: {', '.join(checked)} bitwise, deterministic")


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def torch_permute(x, ids):
    flat = ids.view(-1)
    order = torch.argsort(flat, stable=True)
    rows = x.index_select(0, order // K)
    counts = torch.bincount(flat, minlength=E)
    offsets = torch.cumsum(counts, 0)
    row_map = torch.empty_like(flat)
    row_map[order] = torch.arange(flat.numel(), device=flat.device, dtype=flat.dtype)
    return rows, row_map, offsets


def torch_align(ids, block=64):
    """moe_align_block_size-style metadata: tokens sorted by expert, each
    expert padded to a multiple of `block`, the expert of each block."""
    flat = ids.view(-1)
    counts = torch.bincount(flat, minlength=E)
    padded = (counts + block - 1) // block * block
    start = torch.cumsum(padded, 0) - padded
    order = torch.argsort(flat, stable=True)
    e_sorted = flat[order]
    first = torch.cumsum(counts, 0) - counts
    pos = torch.arange(flat.numel(), device=flat.device) - first[e_sorted] + start[e_sorted]
    total = flat.numel() + E * (block - 1)
    sorted_ids = torch.full((total,), flat.numel(), dtype=torch.int32, device=flat.device)
    sorted_ids[pos] = order.to(torch.int32)
    block_end = torch.cumsum(padded // block, 0)
    expert_ids = torch.searchsorted(block_end, torch.arange(total // block, device=flat.device),
                                    right=True)  # E past the last block
    return sorted_ids, expert_ids


def torch_combine(expert_out, order_tok, w_sorted, shared, T):
    out = shared.float()
    out.index_add_(0, order_tok, expert_out.float() * w_sorted[:, None])
    return out.to(torch.bfloat16)


def torch_layout(ids):
    flat = ids.view(-1)
    T = ids.shape[0]
    per_expert = torch.bincount(flat, minlength=E)
    in_rank = torch.zeros(T, 64, dtype=torch.bool, device=ids.device)
    in_rank.scatter_(1, (ids // 4).long(), True)
    per_rank = in_rank.sum(0)
    per_node = in_rank.view(T, 8, 8).any(2).sum(0)
    return per_expert, per_rank, per_node, in_rank


def time_all(suite, T, log):
    H = 7168
    rng = np.random.default_rng(T)
    ids = torch.from_numpy(make_ids(rng, T, "uniform")).to(DEV)
    w = torch.from_numpy(make_weights(rng, T, "uniform")).to(DEV)
    x = torch.randn(T, H, device=DEV).to(torch.bfloat16)
    x8 = torch.randn(T, 8, device=DEV).to(torch.bfloat16)
    rows = torch.empty(T * K, H, dtype=torch.bfloat16, device=DEV)
    rows8 = torch.empty(T * K, 8, dtype=torch.bfloat16, device=DEV)
    row_map = torch.empty(T, K, dtype=torch.int32, device=DEV)
    off = torch.empty(E + 1, dtype=torch.int32, device=DEV)
    out = torch.empty(T, H, dtype=torch.bfloat16, device=DEV)
    lay = [torch.empty(E, dtype=torch.int32, device=DEV), torch.empty(64, dtype=torch.int32, device=DEV),
           torch.empty(8, dtype=torch.int32, device=DEV), torch.empty(T, 64, dtype=torch.bool, device=DEV)]
    big = T >= 65536
    inner = 3 if big else 20
    r = {}
    r["layout"] = graphed(lambda: suite.layout([ids] + lay, T), inner)
    for name in ("permute_h8", "permute_probs_h8"):
        r[name] = graphed(lambda n=name: suite.fns[n]([x8, ids, w, rows8, row_map, off], T), inner)
    for name in ("permute", "permute_probs"):
        r[name] = graphed(lambda n=name: suite.fns[n]([x, ids, w, rows, row_map, off], T), inner)
    suite.fns["permute"]([x, ids, w, rows, row_map, off], T)
    shared = torch.randn(T, H, device=DEV).to(torch.bfloat16)
    r["combine"] = graphed(lambda: suite.fns["combine"]([rows, row_map, w, shared, out], T), inner)
    r["combine_noshared"] = graphed(lambda: suite.fns["combine_noshared"]([rows, row_map, w, out], T), inner)
    # PyTorch (eager; argsort and bincount synchronise nothing but allocate).
    reps = 10 if big else 30
    for _ in range(3):
        torch_permute(x, ids), torch_align(ids), torch_layout(ids)
    r["torch_layout"] = median_ms(lambda: torch_layout(ids), reps)
    r["torch_align"] = median_ms(lambda: torch_align(ids), reps)
    r["torch_permute_meta"] = median_ms(lambda: torch_permute(x8, ids), reps)
    r["torch_permute"] = median_ms(lambda: torch_permute(x, ids), reps)
    order = torch.argsort(ids.view(-1), stable=True)
    order_tok = order // K
    w_sorted = w.view(-1)[order]
    r["torch_combine"] = median_ms(lambda: torch_combine(rows, order_tok, w_sorted, shared, T), reps)
    # Copy bandwidth: a device copy of the rows' bytes (read + write).
    src = torch.empty_like(rows)
    r["copy_rows"] = graphed(lambda: rows.copy_(src), inner)
    del src
    nbytes = rows.numel() * 2
    copy_bw = 2 * nbytes / (r["copy_rows"] * 1e-3)
    gather_bw = 2 * nbytes / (r["permute"] * 1e-3)  # writes the rows, reads as many
    combine_bytes = nbytes + 2 * T * H * 2 + T * K * 8  # rows, shared, out, map+w
    combine_bw = combine_bytes / (r["combine"] * 1e-3)
    r["copy_TBps"] = copy_bw / 1e12
    r["permute_frac_copy"] = gather_bw / copy_bw
    r["combine_frac_copy"] = combine_bw / copy_bw
    log(f"timed T={T}")
    return r


def main():
    prepared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    lib = build(prepared, out)
    suite = Suite(lib)
    lines = []

    def log(s):
        print(s, flush=True)
        lines.append(s)

    results = {"device": torch.cuda.get_device_name(), "checks": []}
    results["cpu_cases"] = check_cpu_cases(suite, prepared, log)
    rng = np.random.default_rng(int.from_bytes(os.urandom(4), "little"))
    # MOE_BENCH_QUICK=1 (tuning runs only): fresh checks at T <= 4096.
    quick = os.environ.get("MOE_BENCH_QUICK") == "1"
    for T in (1, 7, 4096) if quick else (1, 7, 4096, 65536):
        for dist in ("uniform", "skewed"):
            check_fresh(suite, T, dist, rng, log)
            results["checks"].append(f"T={T} {dist}")
            torch.cuda.empty_cache()
    timings = {T: time_all(suite, T, log) for T in (4096, 65536)}
    results["timings_ms"] = timings
    us = lambda v: f"{v * 1e3:8.1f}"
    table = ["| step (µs) | T = 4096 | vs PyTorch | T = 65536 | vs PyTorch |",
             "|---|---:|---:|---:|---:|"]
    rows = [("dispatch layout", "layout", "torch_layout"),
            ("permute metadata (16-byte rows)", "permute_h8", "torch_permute_meta"),
            ("  vs moe_align_block_size-style (PyTorch)", "permute_h8", "torch_align"),
            ("permute metadata, probs capacity", "permute_probs_h8", "torch_permute_meta"),
            ("permute H = 7168 bf16", "permute", "torch_permute"),
            ("permute H = 7168, probs capacity 1.25", "permute_probs", "torch_permute"),
            ("combine H = 7168 + shared", "combine", "torch_combine"),
            ("combine H = 7168", "combine_noshared", "torch_combine")]
    for label, mine, theirs in rows:
        cells = []
        for T in (4096, 65536):
            t = timings[T]
            cells += [us(t[mine]), f"{t[theirs] / t[mine]:.1f}×"]
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    for T in (4096, 65536):
        t = timings[T]
        table.append(f"\nT = {T}: device copy {t['copy_TBps']:.2f} TB/s; permute gather at "
                     f"{t['permute_frac_copy'] * 100:.0f}% and combine at "
                     f"{t['combine_frac_copy'] * 100:.0f}% of it")
    text = "\n".join(table)
    print(text)
    write_outputs(out, results, text, lines)


if __name__ == "__main__":
    main()
