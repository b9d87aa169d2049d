"""The routing configurations of bench/routing/routing.mlir, for the
reference, the checks and the PyTorch baselines."""

CONFIGS = {
    # name: (in dtype, E, K, groups, group_topk, group score, func, bias, normalize, scale, counts)
    "v3_f32": ("f32", 256, 8, 8, 4, ("topk_sum", 2), "sigmoid", True, True, 2.5, False),
    "v3_f32_counts": ("f32", 256, 8, 8, 4, ("topk_sum", 2), "sigmoid", True, True, 2.5, True),
    "v3_bf16": ("bf16", 256, 8, 8, 4, ("topk_sum", 2), "sigmoid", True, True, 2.5, False),
    "v2_f32": ("f32", 160, 6, 8, 3, ("max", 1), "softmax", False, False, 16.0, False),
    "v2_bf16": ("bf16", 160, 6, 8, 3, ("max", 1), "softmax", False, False, 16.0, False),
    "v2_lite_f32": ("f32", 64, 6, 1, 1, ("max", 1), "softmax", False, False, 1.0, False),
    "e384_f32": ("f32", 384, 8, 1, 1, ("max", 1), "sigmoid", True, True, 2.827, False),
    "e512_bf16": ("bf16", 512, 8, 1, 1, ("max", 1), "softmax", False, True, 1.0, False),
}


def bf16_round(x):
    """float32 values rounded to bf16 (nearest even), as float32."""
    import numpy as np
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)
