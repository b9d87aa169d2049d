"""Random dispatch inputs shared by prepare.py (CPU cases) and bench.py
(fresh GPU checks): DeepSeek-V3 shapes, E = 256, K = 8."""

import numpy as np

E, K = 256, 8


def make_ids(rng, T, dist):
    """K distinct experts per token. `uniform`: every expert alike.
    `skewed`: Gumbel top-K of steeply falling logits (a few experts take
    most tokens, several get none), 0.5% of the slots -1 (dropped)."""
    if dist == "uniform":
        keys = rng.random((T, E))
    else:
        keys = -np.arange(E) / 6.0 - np.log(-np.log(rng.random((T, E))))
    ids = np.argpartition(-keys, K - 1, axis=1)[:, :K].astype(np.int32)
    if dist == "skewed":
        ids[rng.random((T, K)) < 0.005] = -1
    return np.ascontiguousarray(ids)


def make_weights(rng, T, dist):
    w = rng.random((T, K)).astype(np.float32)
    if dist == "skewed":
        w = np.round(w * 16).astype(np.float32) / 16  # ties for the probs policy
    return w


def bf16_bits(rng, shape):
    """Random bf16 values (raw bits) of moderate range, no NaN/inf."""
    v = rng.standard_normal(shape, dtype=np.float32)
    return (v.view(np.uint32) >> 16).astype(np.uint16)


def make_case(rng, T, H, dist):
    """ids, weights, x [T, H], expert outputs [T*K, H], shared [T, H]
    (bf16 as uint16 bits)."""
    return (make_ids(rng, T, dist), make_weights(rng, T, dist), bf16_bits(rng, (T, H)),
            bf16_bits(rng, (T * K, H)), bf16_bits(rng, (T, H)))
