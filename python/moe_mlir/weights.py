"""A layer's weights from a HuggingFace DeepSeek state dict, without
dequantising.

    from moe_mlir.config import LayerConfig
    from moe_mlir.weights import layer_weights
    cfg = LayerConfig.from_hf("DeepSeek-V3/config.json")   # fp8=True from its
    w = layer_weights(cfg, state_dict, layer=3)            # quantization_config
    y = CPUProgram(cfg.layer_mlir()).run("moe_layer", x, *as_numpy(w).values())

The names are those of the checkpoints and of transformers' DeepseekV2/V3
modules, under `model.layers.<layer>.mlp.` (or any `prefix`):

    gate.weight                       [E, H]   the router (activation dtype)
    gate.e_score_correction_bias      [E]      f32, with the V3 bias only
    experts.<i>.{gate,up}_proj.weight [I, H]   e4m3 (FP8) or the activation dtype
    experts.<i>.down_proj.weight      [H, I]
    experts.<i>.*.weight_scale_inv    [ceil(N/128), ceil(K/128)] f32, FP8 only
    shared_experts.*                  the same with Is = n_shared x I

The result maps each operand of `LayerConfig.layer_mlir()` after x to its
array, in argument order: router, bias, gate_up [E, 2I, H] (gate rows then
up rows), down [E, H, I], with FP8 their scales [E, 2I/128, H/128] and
[E, H/128, I/128], then the shared expert's. Nothing is transposed or
converted: every tensor must have exactly the shape and dtype the layer
takes, else MoeError names it. Torch tensors stay torch tensors (on their
device); NumPy arrays stay NumPy (e4m3 as uint8 codes, bf16 as float32 or
uint16 bits, which moe_mlir.cpu takes).
"""

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ._capi import MoeError

_NUMPY_DTYPES = {
    "f8E4M3FN": ("uint8 (e4m3 codes)", (np.uint8,)),
    "bf16": ("float32 or uint16 (bf16 bits)", (np.float32, np.uint16)),
    "f16": ("float16", (np.float16,)),
    "f32": ("float32", (np.float32,)),
}
_TORCH_DTYPES = {"f8E4M3FN": "float8_e4m3fn", "bf16": "bfloat16", "f16": "float16",
                 "f32": "float32"}


def _is_torch(t):
    return type(t).__module__.split(".")[0] == "torch"


def _check(name, t, shape, element):
    """t must be an array of `shape` whose dtype stores `element`."""
    if _is_torch(t):
        want = _TORCH_DTYPES[element]
        if str(t.dtype) != f"torch.{want}":
            raise MoeError(f"'{name}' must be torch.{want}, got {t.dtype}")
        got = tuple(t.shape)
    elif isinstance(t, np.ndarray):
        text, allowed = _NUMPY_DTYPES[element]
        if t.dtype.type not in allowed:
            raise MoeError(f"'{name}' must be a NumPy {text} array for {element}, "
                           f"got {t.dtype}")
        got = t.shape
    else:
        raise MoeError(f"'{name}' must be a torch tensor or a NumPy array, got "
                       f"{type(t).__name__}")
    if got != tuple(shape):
        raise MoeError(f"'{name}' has shape {list(got)}, expected {list(shape)}")
    return t


def _stack(arrays):
    """Along a new leading axis (experts)."""
    if _is_torch(arrays[0]):
        import torch
        return torch.stack(arrays)
    return np.stack(arrays)


def _concat(arrays):
    """Along the leading axis (gate rows then up rows)."""
    if _is_torch(arrays[0]):
        import torch
        return torch.cat(arrays)
    return np.concatenate(arrays)


def _find_prefix(state_dict):
    """The one MoE block in a state dict (keys ending in gate.weight next to
    experts.0.*)."""
    if "gate.weight" in state_dict:
        return ""
    found = sorted({k[:-len("gate.weight")] for k in state_dict
                    if k.endswith(".gate.weight")
                    and any(j.startswith(k[:-len("gate.weight")] + "experts.")
                            for j in state_dict)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise MoeError("no MoE block in the state dict: no '<prefix>gate.weight' "
                       "next to '<prefix>experts.*' (pass prefix= if the names differ)")
    raise MoeError(f"the state dict holds {len(found)} MoE blocks "
                   f"({', '.join(found[:4])}{', ...' if len(found) > 4 else ''}): "
                   f"choose one with layer= or prefix=")


def layer_weights(config, state_dict, layer=None, prefix=None):
    """The operands of `config.layer_mlir()` after x, from `state_dict`
    (a mapping of names to torch tensors or NumPy arrays). `layer` picks
    model.layers.<layer>.mlp.; `prefix` any other; with neither, the state
    dict must hold one MoE block (or be one: keys like 'gate.weight')."""
    if not isinstance(state_dict, Mapping):
        raise MoeError(f"layer_weights: the state dict must be a mapping of names to "
                       f"tensors, got {type(state_dict).__name__}")
    if layer is not None and prefix is not None:
        raise MoeError("layer_weights: give layer= or prefix=, not both")
    if layer is not None:
        if isinstance(layer, bool) or not isinstance(layer, int) or layer < 0:
            raise MoeError(f"layer_weights: 'layer' must be a non-negative integer, "
                           f"got {layer!r}")
        prefix = f"model.layers.{layer}.mlp."
    elif prefix is None:
        prefix = _find_prefix(state_dict)
    elif not isinstance(prefix, str):
        raise MoeError(f"layer_weights: 'prefix' must be a string, got {prefix!r}")

    c = config
    E, H, I, Is = c.experts, c.hidden, c.intermediate, c.shared_intermediate
    weight_type = "f8E4M3FN" if c.fp8 else c.dtype
    used = set()

    def take(key, shape, element):
        name = prefix + key
        if name not in state_dict:
            raise MoeError(f"the state dict has no '{name}'")
        used.add(name)
        return _check(name, state_dict[name], shape, element)

    def blocks(n):
        return -(-n // 128)

    def projection(base, n, k):
        """weight [n, k] (and its scale_inv with FP8)."""
        w = take(f"{base}.weight", (n, k), weight_type)
        s = take(f"{base}.weight_scale_inv", (blocks(n), blocks(k)), "f32") if c.fp8 else None
        return w, s

    def ffn(base, width):
        """gate_up [2w, H], down [H, w] and their scales from one MLP."""
        gw, gs = projection(f"{base}.gate_proj", width, H)
        uw, us = projection(f"{base}.up_proj", width, H)
        dw, ds = projection(f"{base}.down_proj", H, width)
        gate_up = _concat([gw, uw])
        gate_up_scales = _concat([gs, us]) if c.fp8 else None
        return gate_up, dw, gate_up_scales, ds

    out = OrderedDict()
    out["router"] = take("gate.weight", (E, H), c.dtype)
    if c.bias:
        out["bias"] = take("gate.e_score_correction_bias", (E,), "f32")
    routed = [ffn(f"experts.{i}", I) for i in range(E)]
    out["gate_up"] = _stack([r[0] for r in routed])
    out["down"] = _stack([r[1] for r in routed])
    if c.fp8:
        out["gate_up_scales"] = _stack([r[2] for r in routed])
        out["down_scales"] = _stack([r[3] for r in routed])
    if Is:
        gu, d, gus, ds = ffn("shared_experts", Is)
        out["shared_gate_up"] = _stack([gu])
        out["shared_down"] = _stack([d])
        if c.fp8:
            out["shared_gate_up_scales"] = _stack([gus])
            out["shared_down_scales"] = _stack([ds])

    # What the block holds beyond the config is a mismatch, not noise: more
    # experts, a shared expert or a bias the config does not have, scales
    # of an FP8 checkpoint read as bf16.
    extra = sorted(k for k in state_dict if k.startswith(prefix) and k not in used)
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        raise MoeError(f"the state dict has tensors the config does not use: "
                       f"{', '.join(repr(k) for k in extra[:3])}{more} (check the "
                       f"config's experts, shared_intermediate, bias and fp8)")
    return out


def quantize_weight(w, block=128):
    """A float weight [N, K] (torch tensor) as a checkpoint stores it in
    FP8: e4m3 values and f32 scale_inv [ceil(N/block), ceil(K/block)], one
    per block x block tile (the last ones shorter), with
    scale_inv = max(amax of the tile, 1e-4) / 448 and values
    w / scale_inv rounded to nearest even in f32 (the clamp keeps all-zero
    tiles finite, as act_quant does). On w's device; for random or
    fine-tuned bf16 weights that a layer should run in FP8."""
    if not _is_torch(w):
        raise MoeError(f"quantize_weight: w must be a torch tensor, got {type(w).__name__}")
    import torch
    if w.dim() != 2:
        raise MoeError(f"quantize_weight: w must be 2-D [N, K], got {list(w.shape)}")
    if not w.is_floating_point() or w.dtype == torch.float8_e4m3fn:
        raise MoeError(f"quantize_weight: w must be a float tensor, got {w.dtype}")
    n, k = w.shape
    nb, kb = -(-n // block), -(-k // block)
    w = w.float()
    padded = torch.zeros(nb * block, kb * block, device=w.device)
    padded[:n, :k] = w.abs()
    amax = padded.view(nb, block, kb, block).amax(dim=(1, 3)).clamp_min(1e-4)
    # A tensor divisor: PyTorch turns division by a Python number into a
    # multiplication by its reciprocal, which rounds differently.
    scale_inv = amax / torch.full_like(amax, 448.0)
    full = scale_inv.repeat_interleave(block, 0).repeat_interleave(block, 1)[:n, :k]
    return (w / full).to(torch.float8_e4m3fn), scale_inv


def as_torch(weights, device=None):
    """The inverse of as_numpy: NumPy arrays -> torch tensors (uint8 e4m3
    codes as float8_e4m3fn, uint16 bf16 bits as bfloat16, other dtypes as
    they are); torch tensors pass through. On `device` when given."""
    import torch
    out = OrderedDict()
    for name, t in weights.items():
        if isinstance(t, np.ndarray):
            a = np.ascontiguousarray(t)
            if a.dtype == np.uint8:
                t = torch.from_numpy(a).view(torch.float8_e4m3fn)
            elif a.dtype == np.uint16:
                t = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
            else:
                t = torch.from_numpy(a)
        out[name] = t.to(device) if device is not None else t
    return out


def as_numpy(weights):
    """Torch tensors -> NumPy arrays moe_mlir.cpu takes (e4m3 as uint8 codes,
    bf16 as uint16 bits); NumPy arrays pass through."""
    out = OrderedDict()
    for name, t in weights.items():
        if _is_torch(t):
            import torch
            t = t.detach().cpu()
            if t.dtype == torch.float8_e4m3fn:
                t = t.view(torch.uint8)
            elif t.dtype == torch.bfloat16:
                t = t.view(torch.int16)
            t = t.numpy()
            if t.dtype == np.int16:
                t = t.view(np.uint16)
        out[name] = t
    return out
