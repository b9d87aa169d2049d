#!/usr/bin/env python3
"""Runs the DeepSeek-V3 router step of examples/deepseek-v3.mlir on the CPU
reference with seeded random inputs and prints a short summary.

    PYTHONPATH=python python3 examples/run_deepseek_v3_cpu.py [--tokens 4096] [--steps 3]

The hidden states and router weights are random (seeded), so the load
statistics describe this synthetic batch; the bias update is applied between
steps to show the aux-loss-free balancing at work.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from moe_mlir.cpu import CPUProgram  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4096,
                        help="tokens per step, a multiple of the 4096-token sequence")
    parser.add_argument("--steps", type=int, default=2, help="router steps to run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    source = open(os.path.join(HERE, "deepseek-v3.mlir")).read()
    t0 = time.perf_counter()
    prog = CPUProgram(source, name="examples/deepseek-v3.mlir")
    print(f"compiled examples/deepseek-v3.mlir for the CPU in {time.perf_counter() - t0:.2f} s")

    rng = np.random.default_rng(args.seed)
    H, E = 7168, 256
    # A router with a few "popular" experts, so balancing has work to do.
    router = rng.normal(0, 0.02, size=(E, H)).astype(np.float32)
    router[:16] *= 1.6
    bias = np.zeros(E, np.float32)
    print(f"DeepSeek-V3 router: E = {E}, k = 8, 8 groups, 4 per token, "
          f"top-2-sum group score, sigmoid, x2.5; T = {args.tokens} tokens/step")
    for step in range(args.steps):
        x = rng.normal(0, 1, size=(args.tokens, H)).astype(np.float32)
        t0 = time.perf_counter()
        ids, w, loss, grad, counts, bias = prog.run("deepseek_v3_router_step", x, router, bias)
        dt = time.perf_counter() - t0
        mean = counts.mean()
        print(f"step {step}: {dt:5.2f} s  tokens/expert min {counts.min():4d} "
              f"mean {mean:6.1f} max {counts.max():4d}  max/mean load {counts.max() / mean:.3f}  "
              f"seq-loss {float(loss):.6e}  |grad| {np.abs(grad).max():.2e}  "
              f"bias range [{bias.min():+.4f}, {bias.max():+.4f}]")
    assert ids.shape == (args.tokens, 8) and np.allclose(w.sum(axis=1), 2.5, rtol=1e-5)
    top = np.argsort(-counts, kind="stable")[:8]
    print("busiest experts (last step):",
          ", ".join(f"{e}:{counts[e]}" for e in top))


if __name__ == "__main__":
    main()
