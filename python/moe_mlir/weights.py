"""A layer's weights from a HuggingFace state dict or safetensors checkpoint,
without dequantising.

    from moe_mlir.config import LayerConfig
    from moe_mlir.weights import layer_weights, load_layer
    cfg = LayerConfig.from_hf("DeepSeek-V3/config.json")   # fp8=True from its
    w = layer_weights(cfg, state_dict, layer=3)            # quantization_config
    w = load_layer(cfg, "DeepSeek-V3", layer=3)            # or from the directory
    y = CPUProgram(cfg.layer_mlir()).run("moe_layer", x, *as_numpy(w).values())

Layer N's MoE block is `model.layers.N.mlp.` (DeepSeek, Kimi, GLM-4.5,
Qwen2/3-MoE, and every family in transformers 5) or
`model.layers.N.block_sparse_moe.` (Mixtral's checkpoints). The naming of
its experts is read from the keys (a config does not record its family):

    gate.weight                         [E, H]  the router (activation dtype)
    gate.e_score_correction_bias        [E]     f32; DeepSeek-V3, Kimi, GLM (bias)
  one tensor per expert and projection (DeepSeek, Kimi, GLM, Qwen checkpoints):
    experts.<i>.{gate,up}_proj.weight   [I, H]  e4m3 (FP8) or the activation dtype
    experts.<i>.down_proj.weight        [H, I]
    experts.<i>.*.weight_scale_inv      [ceil(N/128), ceil(K/128)] f32, FP8 only
  Mixtral's checkpoints:
    experts.<i>.w1.weight [I, H] (gate), w3.weight [I, H] (up), w2.weight [H, I] (down)
  fused, as transformers 5's <Family>Experts modules hold them (all seven):
    experts.gate_up_proj                [E, 2I, H]  gate rows then up rows
    experts.down_proj                   [E, H, I]
    experts.gate_up_proj_scale_inv      [E, 2I/128, H/128] f32, FP8 only
    experts.down_proj_scale_inv         [E, H/128, I/128]
  the shared expert (DeepSeek, Kimi, GLM), as one expert of Is = n_shared x I:
    shared_experts.{gate,up,down}_proj.weight (and .weight_scale_inv)

Sources (transformers 5.25): models/<family>/modeling_<family>.py define
MixtralExperts, Qwen2MoeExperts, Qwen3MoeExperts, DeepseekV2Experts,
DeepseekV3Experts and Glm4MoeExperts with gate_up_proj a Parameter of
(num_experts, 2 * intermediate, hidden) and down_proj of (num_experts,
hidden, intermediate), used as linear(x, gate_up_proj[e]).chunk(2, -1) ->
gate, up: our layout, so these names are taken as they are. None of them
is declared `is_transposed` (integrations/moe.py: [E, in, out] storage,
GPT-OSS's for example). conversion_mapping.py builds them from the
checkpoints (gate_proj/w1 and up_proj/w3 stacked over experts, then
concatenated along dim 1; w2/down_proj stacked) and renames Mixtral's
block_sparse_moe to mlp; integrations/finegrained_fp8.py's FP8Experts adds
gate_up_proj_scale_inv and down_proj_scale_inv of the same layout. The
pre-5 modeling_mixtral.py has w1, w3 = Linear(H, I), w2 = Linear(I, H) and
computes w2(act(w1 x) * w3 x). Qwen2-MoE's shared expert
(shared_expert.*) is scaled by sigmoid(shared_expert_gate(x)), which
moe-mlir does not express: a block with shared_expert_gate.weight is refused.

The result maps each operand of `LayerConfig.layer_mlir()` after x to its
array, in argument order: router, bias, gate_up [E, 2I, H] (gate rows then
up rows), down [E, H, I], with FP8 their scales [E, 2I/128, H/128] and
[E, H/128, I/128], then the shared expert's. Nothing is converted, and
nothing is transposed to fit: every tensor must have exactly the shape and
dtype its name's layout gives, else MoeError names it (a fused tensor of
the transposed shape included; where H = 2I the two layouts have the same
shape and the name's layout is taken, never a guess from the shape).
Torch tensors stay torch tensors (on their device); NumPy arrays stay NumPy
(e4m3 as uint8 codes, bf16 as float32 or uint16 bits, which moe_mlir.cpu
takes). load_layer reads the same from a safetensors checkpoint directory,
memory-mapping only the shards that hold the layer.
"""

import json
import math
import os
import re
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

# The blocks an MoE layer's tensors live in, under model.layers.<N>.
_BLOCKS = ("mlp.", "block_sparse_moe.")
# The projections of one expert, (gate, up, down), by naming.
_PROJECTIONS = {"proj": ("gate_proj", "up_proj", "down_proj"), "w": ("w1", "w3", "w2")}
_PER_EXPERT = re.compile(r"experts\.[0-9]+\.(gate_proj|up_proj|down_proj|w1|w2|w3)\.")
_FUSED = ("experts.gate_up_proj", "experts.down_proj")


def _is_torch(t):
    return type(t).__module__.split(".")[0] == "torch"


def _check(name, t, shape, element, layout=None, transposed=None):
    """t must be an array of `shape` whose dtype stores `element`; `layout`
    describes the shape in the error, `transposed` is the shape of the
    other layout, named as such when t has it."""
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
        message = f"'{name}' has shape {list(got)}, expected {list(shape)}"
        if layout:
            message += f" ({layout})"
        if transposed is not None and got == tuple(transposed):
            message += (f"; {list(got)} is that layout transposed, which this name does "
                        f"not hold: nothing is transposed to fit a shape")
        raise MoeError(message)
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


def _find_prefix(names):
    """The one MoE block among `names` (a gate.weight next to experts.*:
    per-expert or fused, in mlp. or block_sparse_moe. or anywhere)."""
    if "gate.weight" in names:
        return ""
    routers = {k[:-len("gate.weight")] for k in names
               if isinstance(k, str) and k.endswith(".gate.weight")}
    with_experts = set()
    for k in names:
        if not isinstance(k, str):
            continue
        i = k.find("experts.")
        while i >= 0:
            if i == 0 or k[i - 1] == ".":  # not shared_experts.
                with_experts.add(k[:i])
            i = k.find("experts.", i + 1)
    found = sorted(routers & with_experts)
    if len(found) == 1:
        return found[0]
    if not found:
        raise MoeError("no MoE block in the state dict: no '<prefix>gate.weight' "
                       "next to '<prefix>experts.*' (pass prefix= if the names differ)")
    raise MoeError(f"the state dict holds {len(found)} MoE blocks "
                   f"({', '.join(found[:4])}{', ...' if len(found) > 4 else ''}): "
                   f"choose one with layer= or prefix=")


def _check_choice(layer, prefix, where):
    """layer= and prefix= as given: at most one, of the right type."""
    if layer is not None and prefix is not None:
        raise MoeError(f"{where}: give layer= or prefix=, not both")
    if layer is not None and (isinstance(layer, bool) or not isinstance(layer, int)
                              or layer < 0):
        raise MoeError(f"{where}: 'layer' must be a non-negative integer, got {layer!r}")
    if prefix is not None and not isinstance(prefix, str):
        raise MoeError(f"{where}: 'prefix' must be a string, got {prefix!r}")


def _block_prefix(names, layer, prefix):
    """The prefix of the block to read from `names` (a mapping of tensor
    names): model.layers.<layer>. and whichever of mlp. / block_sparse_moe.
    holds a gate.weight, `prefix`, or with neither the one block."""
    if layer is not None:
        base = f"model.layers.{layer}."
        found = [base + b for b in _BLOCKS if base + b + "gate.weight" in names]
        if not found:
            raise MoeError(f"the state dict has no MoE block at layer {layer}: no "
                           + " or ".join(f"'{base}{b}gate.weight'" for b in _BLOCKS))
        if len(found) > 1:
            raise MoeError(f"layer {layer} has two MoE blocks, '{found[0]}' and "
                           f"'{found[1]}': choose one with prefix=")
        return found[0]
    return _find_prefix(names) if prefix is None else prefix


def _naming(keys, prefix):
    """How the block's routed experts are named: 'fused' (experts.gate_up_proj,
    experts.down_proj), 'w' (Mixtral's experts.<i>.w1/w2/w3) or 'proj'
    (experts.<i>.gate_proj/up_proj/down_proj, also when there are none:
    the missing ones are then named). `keys` are the block's, prefix removed."""
    kinds = {}
    for k in keys:
        if k.startswith(_FUSED):
            kinds.setdefault("fused", k)
        else:
            m = _PER_EXPERT.match(k)
            if m:
                kinds.setdefault("w" if m[1][0] == "w" else "proj", k)
    if len(kinds) > 1:
        examples = ", ".join(f"'{prefix}{k}'" for k in kinds.values())
        raise MoeError(f"the block '{prefix}' mixes expert namings ({examples}): "
                       f"its experts must be all fused (experts.gate_up_proj), all "
                       f"experts.<i>.gate_proj/up_proj/down_proj or all experts.<i>.w1/w3/w2")
    return next(iter(kinds), "proj")


def layer_weights(config, state_dict, layer=None, prefix=None):
    """The operands of `config.layer_mlir()` after x, from `state_dict`
    (a mapping of names to torch tensors or NumPy arrays) in any of the
    namings above. `layer` picks model.layers.<layer>. and its mlp. or
    block_sparse_moe. block; `prefix` any other; with neither, the state
    dict must hold one MoE block (or be one: keys like 'gate.weight')."""
    if not isinstance(state_dict, Mapping):
        raise MoeError(f"layer_weights: the state dict must be a mapping of names to "
                       f"tensors, got {type(state_dict).__name__}")
    _check_choice(layer, prefix, "layer_weights")
    prefix = _block_prefix(state_dict, layer, prefix)

    c = config
    E, H, I, Is = c.experts, c.hidden, c.intermediate, c.shared_intermediate
    weight_type = "f8E4M3FN" if c.fp8 else c.dtype
    block = [k for k in state_dict if isinstance(k, str) and k.startswith(prefix)]
    used = set()

    if prefix + "shared_expert_gate.weight" in state_dict:
        raise MoeError(f"'{prefix}shared_expert_gate.weight': Qwen2-MoE's shared expert "
                       f"(shared_expert.*) is scaled by sigmoid(shared_expert_gate(x)), "
                       f"which moe-mlir does not express yet (LayerConfig.from_hf refuses "
                       f"such configs too); the layer would be wrong without it")

    def take(key, shape, element, layout=None, transposed=None):
        name = prefix + key
        if name not in state_dict:
            raise MoeError(f"the state dict has no '{name}'")
        used.add(name)
        return _check(name, state_dict[name], shape, element, layout, transposed)

    def blocks(n):
        return -(-n // 128)

    def projection(base, n, k):
        """weight [n, k] (and its scale_inv with FP8)."""
        w = take(f"{base}.weight", (n, k), weight_type)
        s = take(f"{base}.weight_scale_inv", (blocks(n), blocks(k)), "f32") if c.fp8 else None
        return w, s

    def ffn(base, width, names):
        """gate_up [2w, H], down [H, w] and their scales from one MLP."""
        gate, up, down = names
        gw, gs = projection(f"{base}.{gate}", width, H)
        uw, us = projection(f"{base}.{up}", width, H)
        dw, ds = projection(f"{base}.{down}", H, width)
        gate_up = _concat([gw, uw])
        gate_up_scales = _concat([gs, us]) if c.fp8 else None
        return gate_up, dw, gate_up_scales, ds

    out = OrderedDict()
    out["router"] = take("gate.weight", (E, H), c.dtype)
    if c.bias:
        out["bias"] = take("gate.e_score_correction_bias", (E,), "f32")
    naming = _naming([k[len(prefix):] for k in block], prefix)
    if naming == "fused":
        # transformers 5's <Family>Experts: already [E, 2I, H] gate-then-up
        # and [E, H, I] (see the module docstring); taken as they are.
        gate_up_layout = ("transformers' experts.gate_up_proj layout: [experts, "
                          "2 x intermediate, hidden], gate rows then up rows")
        down_layout = "transformers' experts.down_proj layout: [experts, hidden, intermediate]"
        out["gate_up"] = take("experts.gate_up_proj", (E, 2 * I, H), weight_type,
                              gate_up_layout, (E, H, 2 * I))
        out["down"] = take("experts.down_proj", (E, H, I), weight_type, down_layout, (E, I, H))
        if c.fp8:
            out["gate_up_scales"] = take("experts.gate_up_proj_scale_inv",
                                         (E, blocks(2 * I), blocks(H)), "f32",
                                         "per 128 x 128 block of experts.gate_up_proj",
                                         (E, blocks(H), blocks(2 * I)))
            out["down_scales"] = take("experts.down_proj_scale_inv",
                                      (E, blocks(H), blocks(I)), "f32",
                                      "per 128 x 128 block of experts.down_proj",
                                      (E, blocks(I), blocks(H)))
    else:
        routed = [ffn(f"experts.{i}", I, _PROJECTIONS[naming]) for i in range(E)]
        out["gate_up"] = _stack([r[0] for r in routed])
        out["down"] = _stack([r[1] for r in routed])
        if c.fp8:
            out["gate_up_scales"] = _stack([r[2] for r in routed])
            out["down_scales"] = _stack([r[3] for r in routed])
    if Is:
        gu, d, gus, ds = ffn("shared_experts", Is, _PROJECTIONS["proj"])
        out["shared_gate_up"] = _stack([gu])
        out["shared_down"] = _stack([d])
        if c.fp8:
            out["shared_gate_up_scales"] = _stack([gus])
            out["shared_down_scales"] = _stack([ds])

    # What the block holds beyond the config is a mismatch, not noise: more
    # experts, a shared expert or a bias the config does not have, scales
    # of an FP8 checkpoint read as bf16.
    extra = sorted(k for k in block if k not in used)
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        raise MoeError(f"the state dict has tensors the config does not use: "
                       f"{', '.join(repr(k) for k in extra[:3])}{more} (check the "
                       f"config's experts, shared_intermediate, bias and fp8)")
    return out


# -- safetensors checkpoints ---------------------------------------------------
#
# The format (huggingface/safetensors): an 8-byte little-endian header
# length N, N bytes of JSON mapping each tensor's name to its dtype, shape
# and data_offsets [begin, end) (bytes, from the end of the header; the
# data is little-endian, row-major) plus an optional "__metadata__" of
# strings; then the data. A sharded checkpoint's model.safetensors.index.json
# maps each name to its shard file ("weight_map").

# The dtypes a layer takes, as layer_weights' NumPy arrays hold them.
_SAFETENSORS_DTYPES = {"BF16": np.dtype("<u2"), "F16": np.dtype("<f2"),
                       "F32": np.dtype("<f4"), "F8_E4M3": np.dtype("u1")}
_HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own bound on a header


class _Shard:
    """One .safetensors file: its header, read when opened, and its data,
    memory-mapped when a tensor is first taken (only the pages of the
    tensors read are ever loaded)."""

    def __init__(self, path):
        self.path = path
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                head = f.read(8)
                if len(head) < 8:
                    raise MoeError(f"{path}: not a safetensors file: {size} bytes, "
                                   f"shorter than the 8-byte header length")
                n = int.from_bytes(head, "little")
                if n > size - 8 or n > _HEADER_LIMIT:
                    raise MoeError(f"{path}: bad safetensors header: its length {n} "
                                   f"exceeds the file ({size} bytes) or the "
                                   f"{_HEADER_LIMIT}-byte limit")
                text = f.read(n)
        except OSError as err:
            raise MoeError(f"{path}: cannot read the safetensors file: "
                           f"{err.strerror or err}") from None
        try:
            header = json.loads(text.decode("utf-8"))
        except (ValueError, RecursionError):
            raise MoeError(f"{path}: bad safetensors header: not a JSON object") from None
        if not isinstance(header, dict):
            raise MoeError(f"{path}: bad safetensors header: not a JSON object")
        header.pop("__metadata__", None)
        self.header, self.data_start, self.size, self._data = header, 8 + n, size, None

    def tensor(self, name, index=None):
        """The tensor `name` as a NumPy array on the memory map."""
        entry = self.header.get(name)
        if entry is None:
            placed = f", where {index} places it" if index else ""
            raise MoeError(f"{self.path}: no tensor '{name}' in this shard{placed}")
        if not isinstance(entry, dict):
            raise MoeError(f"{self.path}: bad safetensors header entry for '{name}'")
        dtype, shape, offsets = (entry.get(k) for k in ("dtype", "shape", "data_offsets"))
        if not isinstance(dtype, str) or not isinstance(shape, list) \
                or not all(type(d) is int and d >= 0 for d in shape) \
                or not isinstance(offsets, list) or len(offsets) != 2 \
                or not all(type(o) is int for o in offsets) \
                or not 0 <= offsets[0] <= offsets[1]:
            raise MoeError(f"{self.path}: bad safetensors header entry for '{name}': "
                           f"dtype {dtype!r}, shape {shape!r}, data_offsets {offsets!r}")
        if dtype not in _SAFETENSORS_DTYPES:
            raise MoeError(f"{self.path}: tensor '{name}' is {dtype}; a layer takes "
                           f"{', '.join(_SAFETENSORS_DTYPES)}")
        np_dtype = _SAFETENSORS_DTYPES[dtype]
        nbytes = math.prod(shape) * np_dtype.itemsize
        begin, end = offsets
        if end - begin != nbytes:
            raise MoeError(f"{self.path}: tensor '{name}' ({dtype} {shape}, {nbytes} "
                           f"bytes) has data_offsets {offsets} ({end - begin} bytes)")
        if self.data_start + end > self.size:
            raise MoeError(f"{self.path}: truncated: tensor '{name}' needs bytes up to "
                           f"{self.data_start + end} of the file, which has {self.size}")
        if nbytes == 0:
            return np.zeros(shape, np_dtype)
        if self._data is None:
            try:
                self._data = np.memmap(self.path, dtype=np.uint8, mode="r")
            except (OSError, ValueError) as err:
                raise MoeError(f"{self.path}: cannot map the safetensors file: {err}") \
                    from None
            if len(self._data) < self.size:
                raise MoeError(f"{self.path}: truncated while reading: {len(self._data)} "
                               f"bytes, its header was read from {self.size}")
        start = self.data_start + begin
        return self._data[start:start + nbytes].view(np_dtype).reshape(shape)


def _open_checkpoint(path):
    """(where, names): each tensor name of the checkpoint at `path` (a
    directory, its index .json, or one .safetensors file) -> a function
    returning that tensor."""
    if not isinstance(path, (str, os.PathLike)):
        raise MoeError(f"load_layer: 'path' must be a path, got {type(path).__name__}")
    path = os.fsdecode(path)
    index = path
    if os.path.isdir(path):
        index = os.path.join(path, "model.safetensors.index.json")
        if not os.path.isfile(index):
            single = os.path.join(path, "model.safetensors")
            if not os.path.isfile(single):
                raise MoeError(f"{path}: no model.safetensors.index.json or "
                               f"model.safetensors in the directory")
            shard = _Shard(single)
            return single, {n: (lambda n=n: shard.tensor(n)) for n in shard.header}
    elif not path.endswith(".json"):
        if not os.path.exists(path):
            raise MoeError(f"{path}: no such file or directory")
        shard = _Shard(path)
        return path, {n: (lambda n=n: shard.tensor(n)) for n in shard.header}

    try:
        with open(index, "rb") as f:
            data = json.loads(f.read())
    except OSError as err:
        raise MoeError(f"{index}: cannot read the checkpoint index: "
                       f"{err.strerror or err}") from None
    except (ValueError, RecursionError):
        raise MoeError(f"{index}: bad checkpoint index: not JSON") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict):
        raise MoeError(f"{index}: bad checkpoint index: no 'weight_map' object "
                       f"(tensor name -> shard file)")
    folder, shards = os.path.dirname(index), {}

    def loader(name, file):
        if not isinstance(file, str) or not file or os.path.basename(file) != file:
            raise MoeError(f"{index}: bad checkpoint index: '{name}' is in shard "
                           f"{file!r}, not a file name in the index's directory")
        if file not in shards:
            full = os.path.join(folder, file)
            if not os.path.isfile(full):
                raise MoeError(f"{full}: no such shard, which {index} names for '{name}'")
            shards[file] = _Shard(full)
        return shards[file].tensor(name, index)

    return index, {n: (lambda n=n, f=f: loader(n, f)) for n, f in weight_map.items()}


def load_layer(config, path, layer=None, prefix=None):
    """layer_weights(config, <the checkpoint's tensors>, layer, prefix) for
    a safetensors checkpoint: `path` is its directory (with
    model.safetensors.index.json, or one model.safetensors), the index
    itself or one .safetensors file. Only the shards holding the block's
    tensors are opened, and those memory-mapped, so only the layer's bytes
    are read. NumPy arrays: e4m3 as uint8 codes, bf16 as uint16 bits, f16
    and f32 as float16 and float32."""
    _check_choice(layer, prefix, "load_layer")
    where, names = _open_checkpoint(path)
    try:
        prefix = _block_prefix(names, layer, prefix)
    except MoeError as err:
        raise MoeError(f"{where}: {err}".replace("the state dict", "the checkpoint")) \
            from None
    tensors = {n: get() for n, get in names.items() if n.startswith(prefix)}
    try:
        out = layer_weights(config, tensors, prefix=prefix)
    except MoeError as err:
        raise MoeError(f"{where}: {err}".replace("the state dict", "the checkpoint")) \
            from None
    # Copies off the memory map (fused tensors come through as they are).
    return OrderedDict((k, np.array(v) if isinstance(v, np.memmap) else v)
                       for k, v in out.items())


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
