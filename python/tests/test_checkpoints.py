"""Checkpoints of every family: moe_mlir.weights.layer_weights reads the
per-expert names (DeepSeek, Kimi, GLM, Qwen: experts.<i>.gate_proj...;
Mixtral: block_sparse_moe.experts.<i>.w1/w3/w2) and transformers 5's fused
experts.gate_up_proj [E, 2I, H] / experts.down_proj [E, H, I], and
load_layer reads them from a safetensors directory. Every operand is
compared exactly with a stacking written out here by index (gate rows then
up rows), and the safetensors files are written by a writer of this file's
own, not by weights.py's reader."""

import json
import os
import struct

import numpy as np
import pytest

import reference as ref
from moe_mlir import MoeError
from moe_mlir.config import LayerConfig
from moe_mlir.weights import as_numpy, layer_weights, load_layer

F32 = np.float32
E, H, I = 4, 256, 128
LAYER = "model.layers.3."


def bf16_bits(rng, shape, std=0.05):
    return ref.f32_to_bf16_bits(rng.normal(0, std, size=shape).astype(F32))


def e4m3_codes(rng, shape):
    c = rng.integers(0, 256, size=shape).astype(np.uint8)
    return np.where((c & 0x7F) == 0x7F, c ^ 1, c).astype(np.uint8)  # no NaN codes


def scale_blocks(rng, shape):
    return rng.uniform(1e-4, 1e-2, size=shape).astype(F32)


# -- the configs, as from_hf reads each family ----------------------------------

def deepseek_fp8():
    return LayerConfig(experts=E, k=2, hidden=H, intermediate=I, shared_intermediate=I,
                       groups=2, group_topk=1, group_score=("topk_sum", 2),
                       score="sigmoid", bias=True, normalize=True, scale=2.5, fp8=True)


def glm():
    return LayerConfig.from_hf(dict(model_type="glm4_moe", n_routed_experts=E,
                                    num_experts_per_tok=2, hidden_size=H,
                                    moe_intermediate_size=I, n_shared_experts=1))


def qwen3(hidden=H):
    return LayerConfig.from_hf(dict(model_type="qwen3_moe", num_experts=E,
                                    num_experts_per_tok=2, hidden_size=hidden,
                                    moe_intermediate_size=I, norm_topk_prob=True))


def mixtral():
    return LayerConfig.from_hf(dict(model_type="mixtral", num_local_experts=E,
                                    num_experts_per_tok=2, hidden_size=H,
                                    intermediate_size=I, torch_dtype="bfloat16"))


# -- one layer's tensors, then written out in each naming -----------------------

class Layer:
    """Random tensors of one MoE layer, each projection by itself: gate,
    up [I, H] and down [H, I] per expert (and their FP8 scale blocks)."""

    def __init__(self, cfg, seed):
        rng = np.random.default_rng(seed)
        self.cfg = cfg
        weight = (lambda shape: e4m3_codes(rng, shape)) if cfg.fp8 else \
            (lambda shape: bf16_bits(rng, shape))
        blocks = lambda n: -(-n // 128)

        def mlp(width):
            p = {"gate": weight((width, H)), "up": weight((width, H)),
                 "down": weight((H, width))}
            if cfg.fp8:
                p.update(gate_s=scale_blocks(rng, (blocks(width), blocks(H))),
                         up_s=scale_blocks(rng, (blocks(width), blocks(H))),
                         down_s=scale_blocks(rng, (blocks(H), blocks(width))))
            return p

        self.router = bf16_bits(rng, (E, H))
        self.bias = rng.normal(0, 0.1, size=E).astype(F32) if cfg.bias else None
        self.experts = [mlp(I) for _ in range(E)]
        self.shared = mlp(cfg.shared_intermediate) if cfg.shared_intermediate else None

    def state_dict(self, naming, block=LAYER + "mlp."):
        """naming: 'proj' (experts.<i>.gate_proj...), 'w' (w1/w3/w2) or
        'fused' (experts.gate_up_proj, experts.down_proj)."""
        sd = {block + "gate.weight": self.router}
        if self.bias is not None:
            sd[block + "gate.e_score_correction_bias"] = self.bias
        names = {"proj": ("gate_proj", "up_proj", "down_proj"), "w": ("w1", "w3", "w2")}
        if naming == "fused":
            sd[block + "experts.gate_up_proj"] = np.stack(
                [np.concatenate([p["gate"], p["up"]]) for p in self.experts])
            sd[block + "experts.down_proj"] = np.stack([p["down"] for p in self.experts])
            if self.cfg.fp8:
                sd[block + "experts.gate_up_proj_scale_inv"] = np.stack(
                    [np.concatenate([p["gate_s"], p["up_s"]]) for p in self.experts])
                sd[block + "experts.down_proj_scale_inv"] = np.stack(
                    [p["down_s"] for p in self.experts])
        else:
            for i, p in enumerate(self.experts):
                for part, name in zip(("gate", "up", "down"), names[naming]):
                    sd[f"{block}experts.{i}.{name}.weight"] = p[part]
                    if self.cfg.fp8:
                        sd[f"{block}experts.{i}.{name}.weight_scale_inv"] = p[part + "_s"]
        if self.shared is not None:
            for part, name in zip(("gate", "up", "down"), names["proj"]):
                sd[f"{block}shared_experts.{name}.weight"] = self.shared[part]
                if self.cfg.fp8:
                    sd[f"{block}shared_experts.{name}.weight_scale_inv"] = \
                        self.shared[part + "_s"]
        return sd

    def expected(self):
        """The operands, filled in by index: gate_up[e, :w] the gate rows,
        gate_up[e, w:] the up rows."""
        def fill(mlps, suffix=""):
            g = mlps[0]["gate" + suffix]
            n_rows, n_cols = g.shape
            gate_up = np.zeros((len(mlps), 2 * n_rows, n_cols), g.dtype)
            down = np.zeros((len(mlps),) + mlps[0]["down" + suffix].shape,
                            mlps[0]["down" + suffix].dtype)
            for e, p in enumerate(mlps):
                gate_up[e, :n_rows] = p["gate" + suffix]
                gate_up[e, n_rows:] = p["up" + suffix]
                down[e] = p["down" + suffix]
            return gate_up, down

        out = {"router": self.router}
        if self.bias is not None:
            out["bias"] = self.bias
        out["gate_up"], out["down"] = fill(self.experts)
        if self.cfg.fp8:
            out["gate_up_scales"], out["down_scales"] = fill(self.experts, "_s")
        if self.shared is not None:
            out["shared_gate_up"], out["shared_down"] = fill([self.shared])
            if self.cfg.fp8:
                out["shared_gate_up_scales"], out["shared_down_scales"] = \
                    fill([self.shared], "_s")
        return out


def assert_operands(cfg, got, want):
    assert list(got) == ["router"] + (["bias"] if cfg.bias else []) + \
        list(cfg.weight_shapes())
    assert list(want) == list(got)
    for name in got:
        assert got[name].dtype == want[name].dtype, name
        assert got[name].shape == want[name].shape, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


NAMINGS = [
    # (family, config, naming, block)
    ("deepseek", deepseek_fp8, "proj", "mlp."),
    ("glm", glm, "proj", "mlp."),
    ("qwen3", qwen3, "proj", "mlp."),
    ("mixtral", mixtral, "w", "block_sparse_moe."),
    ("deepseek", deepseek_fp8, "fused", "mlp."),
    ("glm", glm, "fused", "mlp."),
    ("qwen3", qwen3, "fused", "mlp."),
    ("mixtral", mixtral, "fused", "mlp."),  # transformers 5 renames block_sparse_moe
]


@pytest.mark.parametrize("family,make,naming,block", NAMINGS,
                         ids=[f"{f}-{n}" for f, _, n, _ in NAMINGS])
def test_every_naming_loads_exactly(family, make, naming, block):
    cfg = make()
    layer = Layer(cfg, seed=len(family) * 10 + len(naming))
    sd = layer.state_dict(naming, LAYER + block)
    # A model's other tensors around it, and another MoE layer.
    sd[LAYER + "self_attn.q_proj.weight"] = np.zeros((4, 4), np.uint16)
    sd[LAYER + "post_attention_layernorm.weight"] = np.zeros(H, np.uint16)
    sd.update(Layer(cfg, seed=99).state_dict(naming, "model.layers.4." + block))
    want = layer.expected()
    assert_operands(cfg, layer_weights(cfg, sd, layer=3), want)
    assert_operands(cfg, layer_weights(cfg, sd, prefix=LAYER + block), want)
    # The one block of a dict that holds one, with no layer= or prefix=.
    one = {k: v for k, v in sd.items() if k.startswith(LAYER + block)}
    assert_operands(cfg, layer_weights(cfg, one), want)


def test_fused_gate_up_is_taken_by_its_name_when_square():
    # H = 2I: [E, 2I, H] and its transpose [E, H, 2I] have one shape. The
    # name's layout decides; the rows are the gate's, then the up's.
    cfg = qwen3()
    assert 2 * cfg.intermediate == cfg.hidden
    layer = Layer(cfg, seed=1)
    sd = layer.state_dict("fused")
    w = layer_weights(cfg, sd, layer=3)
    assert w["gate_up"] is sd[LAYER + "mlp.experts.gate_up_proj"]
    np.testing.assert_array_equal(w["gate_up"][2, :I], layer.experts[2]["gate"])
    np.testing.assert_array_equal(w["gate_up"][2, I:], layer.experts[2]["up"])


# -- errors ---------------------------------------------------------------------

def error(cfg, sd, **where):
    with pytest.raises(MoeError) as err:
        layer_weights(cfg, sd, **where)
    return str(err.value)


def test_wrong_shapes_name_the_tensor_and_both_shapes():
    cfg = mixtral()
    sd = Layer(cfg, 2).state_dict("w", LAYER + "block_sparse_moe.")
    p = LAYER + "block_sparse_moe."
    sd[p + "experts.1.w2.weight"] = sd[p + "experts.1.w2.weight"].T.copy()
    assert error(cfg, sd, layer=3) == \
        f"'{p}experts.1.w2.weight' has shape [128, 256], expected [256, 128]"
    sd = Layer(cfg, 2).state_dict("w", p)
    sd[p + "experts.0.w3.weight"] = sd[p + "experts.0.w3.weight"][:64]
    assert error(cfg, sd, layer=3) == \
        f"'{p}experts.0.w3.weight' has shape [64, 256], expected [128, 256]"


def test_fused_tensor_of_the_transposed_shape_is_an_error():
    cfg = qwen3()
    sd = Layer(cfg, 3).state_dict("fused")
    p = LAYER + "mlp."
    sd[p + "experts.down_proj"] = np.ascontiguousarray(
        sd[p + "experts.down_proj"].transpose(0, 2, 1))
    msg = error(cfg, sd, layer=3)
    assert msg.startswith(f"'{p}experts.down_proj' has shape [4, 128, 256], expected "
                          f"[4, 256, 128] (transformers' experts.down_proj layout: "
                          f"[experts, hidden, intermediate]); [4, 128, 256] is that "
                          f"layout transposed")
    # gate_up where H != 2I: [E, H, 2I] is not read as [E, 2I, H].
    cfg = qwen3(hidden=384)
    rng = np.random.default_rng(4)
    sd = {p + "gate.weight": bf16_bits(rng, (E, 384)),
          p + "experts.gate_up_proj": bf16_bits(rng, (E, 384, 2 * I)),
          p + "experts.down_proj": bf16_bits(rng, (E, 384, I))}
    msg = error(cfg, sd, layer=3)
    assert msg.startswith(f"'{p}experts.gate_up_proj' has shape [4, 384, 256], expected "
                          f"[4, 256, 384] (transformers' experts.gate_up_proj layout: "
                          f"[experts, 2 x intermediate, hidden], gate rows then up rows); "
                          f"[4, 384, 256] is that layout transposed")
    # A shape that is neither layout.
    sd[p + "experts.gate_up_proj"] = bf16_bits(rng, (E, 2 * I, 128))
    msg = error(cfg, sd, layer=3)
    assert msg == (f"'{p}experts.gate_up_proj' has shape [4, 256, 128], expected "
                   f"[4, 256, 384] (transformers' experts.gate_up_proj layout: "
                   f"[experts, 2 x intermediate, hidden], gate rows then up rows)")


def test_fused_fp8_scales_are_checked():
    cfg = deepseek_fp8()
    sd = Layer(cfg, 5).state_dict("fused")
    p = LAYER + "mlp."
    del sd[p + "experts.down_proj_scale_inv"]
    assert error(cfg, sd) == f"the state dict has no '{p}experts.down_proj_scale_inv'"
    sd = Layer(cfg, 5).state_dict("fused")
    sd[p + "experts.gate_up_proj_scale_inv"] = np.ones((E, 2, 1), F32)
    assert error(cfg, sd).startswith(f"'{p}experts.gate_up_proj_scale_inv' has shape "
                                     f"[4, 2, 1], expected [4, 2, 2]")
    sd = Layer(cfg, 5).state_dict("fused")
    sd[p + "experts.gate_up_proj"] = sd[p + "experts.gate_up_proj"].astype(F32)
    assert error(cfg, sd) == (f"'{p}experts.gate_up_proj' must be a NumPy uint8 (e4m3 "
                              f"codes) array for f8E4M3FN, got float32")


def test_missing_and_unused_tensors_are_named():
    cfg = mixtral()
    p = LAYER + "block_sparse_moe."
    sd = Layer(cfg, 6).state_dict("w", p)
    del sd[p + "experts.2.w3.weight"]
    assert error(cfg, sd, layer=3) == f"the state dict has no '{p}experts.2.w3.weight'"
    sd = Layer(cfg, 6).state_dict("w", p)
    for w in ("w1", "w2", "w3"):
        sd[f"{p}experts.4.{w}.weight"] = sd[f"{p}experts.0.{w}.weight"]
    msg = error(cfg, sd, layer=3)
    assert msg.startswith(f"the state dict has tensors the config does not use: "
                          f"'{p}experts.4.w1.weight', '{p}experts.4.w2.weight', "
                          f"'{p}experts.4.w3.weight'")
    # FP8 scales next to a bf16 config's fused experts.
    cfg = qwen3()
    sd = Layer(cfg, 7).state_dict("fused")
    sd[LAYER + "mlp.experts.down_proj_scale_inv"] = np.ones((E, 2, 1), F32)
    assert "'model.layers.3.mlp.experts.down_proj_scale_inv'" in error(cfg, sd)
    # A GLM block read with a config without its shared expert.
    sd = Layer(glm(), 8).state_dict("fused")
    cfg = LayerConfig.from_hf(dict(model_type="glm4_moe", n_routed_experts=E,
                                   num_experts_per_tok=2, hidden_size=H,
                                   moe_intermediate_size=I, n_shared_experts=0))
    assert "'model.layers.3.mlp.shared_experts.down_proj.weight'" in error(cfg, sd)
    # Fused without experts.down_proj.
    sd = Layer(qwen3(), 9).state_dict("fused")
    del sd[LAYER + "mlp.experts.down_proj"]
    assert error(qwen3(), sd) == "the state dict has no 'model.layers.3.mlp.experts.down_proj'"


def test_mixed_namings_are_an_error():
    cfg = qwen3()
    p = LAYER + "mlp."
    sd = Layer(cfg, 10).state_dict("fused")
    sd[p + "experts.0.gate_proj.weight"] = np.zeros((I, H), np.uint16)
    msg = error(cfg, sd)
    assert msg.startswith(f"the block '{p}' mixes expert namings")
    assert f"'{p}experts.gate_up_proj'" in msg and f"'{p}experts.0.gate_proj.weight'" in msg
    sd = Layer(cfg, 10).state_dict("proj")
    sd[p + "experts.3.w1.weight"] = np.zeros((I, H), np.uint16)
    assert "mixes expert namings" in error(cfg, sd)


def test_qwen2_shared_expert_gate_is_refused():
    cfg = qwen3()
    p = LAYER + "mlp."
    sd = Layer(cfg, 11).state_dict("proj")
    sd[p + "shared_expert.gate_proj.weight"] = np.zeros((I, H), np.uint16)
    sd[p + "shared_expert.up_proj.weight"] = np.zeros((I, H), np.uint16)
    sd[p + "shared_expert.down_proj.weight"] = np.zeros((H, I), np.uint16)
    sd[p + "shared_expert_gate.weight"] = np.zeros((1, H), np.uint16)
    msg = error(cfg, sd, layer=3)
    assert msg.startswith(f"'{p}shared_expert_gate.weight': Qwen2-MoE's shared expert")
    assert "does not express yet" in msg
    # Without the gate, shared_expert.* are tensors the config does not use.
    del sd[p + "shared_expert_gate.weight"]
    assert "'model.layers.3.mlp.shared_expert.down_proj.weight'" in error(cfg, sd, layer=3)


def test_block_choice():
    cfg = mixtral()
    sd = Layer(cfg, 12).state_dict("w", LAYER + "block_sparse_moe.")
    assert error(cfg, sd, layer=5) == (
        "the state dict has no MoE block at layer 5: no 'model.layers.5.mlp.gate.weight' "
        "or 'model.layers.5.block_sparse_moe.gate.weight'")
    sd.update(Layer(cfg, 13).state_dict("fused", "model.layers.3.mlp."))
    assert error(cfg, sd, layer=3).startswith("layer 3 has two MoE blocks")
    assert error(cfg, sd).startswith("the state dict holds 2 MoE blocks")
    assert layer_weights(cfg, sd, prefix=LAYER + "mlp.")["gate_up"].shape == (E, 2 * I, H)


# -- safetensors ------------------------------------------------------------------

ST_DTYPES = {"uint16": "BF16", "float16": "F16", "float32": "F32", "uint8": "F8_E4M3",
             "float64": "F64", "int64": "I64"}


def write_safetensors(path, tensors, metadata=None):
    """The format: u64 little-endian header length, the JSON header (name ->
    dtype, shape, data_offsets from the end of the header), the data."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, a in tensors.items():
        data = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": ST_DTYPES[a.dtype.name], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def write_sharded(folder, shards):
    """shards: file name -> {tensor name: array}; writes them and the index."""
    weight_map = {}
    for file, tensors in shards.items():
        write_safetensors(os.path.join(folder, file), tensors, {"format": "pt"})
        weight_map.update({name: file for name in tensors})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)


@pytest.mark.parametrize("family,make,naming,block", NAMINGS,
                         ids=[f"{f}-{n}" for f, _, n, _ in NAMINGS])
def test_sharded_directory_loads_like_the_state_dict(tmp_path, family, make, naming, block):
    cfg = make()
    sd = Layer(cfg, 20).state_dict(naming, LAYER + block)
    names = sorted(sd)
    # The layer split over two shards; a third holds only other layers and
    # is not a safetensors file at all: load_layer must not open it.
    first = {n: sd[n] for n in names[::2]}
    second = {n: sd[n] for n in names[1::2]}
    first["model.embed_tokens.weight"] = np.zeros((8, 4), np.uint16)
    second["model.layers.2.mlp.gate.weight"] = np.zeros((E, H), np.int64)  # not read
    write_sharded(tmp_path, {"model-00001-of-00003.safetensors": first,
                             "model-00002-of-00003.safetensors": second,
                             "model-00003-of-00003.safetensors": {}})
    (tmp_path / "model-00003-of-00003.safetensors").write_bytes(b"\xff" * 5)
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    index["weight_map"]["model.layers.9.mlp.gate.weight"] = "model-00003-of-00003.safetensors"
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))

    want = layer_weights(cfg, sd, layer=3)
    for source in (tmp_path, str(tmp_path / "model.safetensors.index.json")):
        got = load_layer(cfg, source, layer=3)
        assert list(got) == list(want)
        for name in want:
            assert type(got[name]) is np.ndarray, name  # copied off the memory map
            assert got[name].dtype == want[name].dtype and got[name].shape == want[name].shape
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert list(load_layer(cfg, tmp_path, prefix=LAYER + block)) == list(want)


def test_single_file_checkpoint(tmp_path):
    cfg = glm()
    sd = Layer(cfg, 21).state_dict("proj")
    write_safetensors(tmp_path / "model.safetensors", sd)
    want = layer_weights(cfg, sd)
    for source in (tmp_path, tmp_path / "model.safetensors"):
        got = load_layer(cfg, source)  # the one block
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    # f16 and f32 layers read F16 and F32 tensors.
    cfg32 = LayerConfig(experts=E, k=2, hidden=H, intermediate=I, dtype="f32")
    sd32 = {k: ref.bf16_bits_to_f32(v) for k, v in Layer(qwen3(), 22).state_dict("fused").items()}
    write_safetensors(tmp_path / "f32.safetensors", sd32)
    got = load_layer(cfg32, tmp_path / "f32.safetensors", layer=3)
    np.testing.assert_array_equal(got["gate_up"], sd32[LAYER + "mlp.experts.gate_up_proj"])
    assert got["router"].dtype == F32


def checkpoint(tmp_path):
    cfg = qwen3()
    sd = Layer(cfg, 23).state_dict("proj")
    names = sorted(sd)
    write_sharded(tmp_path, {"a.safetensors": {n: sd[n] for n in names[:6]},
                             "b.safetensors": {n: sd[n] for n in names[6:]}})
    return cfg, sd, names


def load_error(cfg, path, **where):
    with pytest.raises(MoeError) as err:
        load_layer(cfg, path, **where)
    return str(err.value)


def test_truncated_shard(tmp_path):
    cfg, sd, names = checkpoint(tmp_path)
    b = tmp_path / "b.safetensors"
    b.write_bytes(b.read_bytes()[:-100])
    msg = load_error(cfg, tmp_path, layer=3)
    assert msg.startswith(f"{b}: truncated: tensor '{names[-1]}' needs bytes up to ")


def test_bad_headers(tmp_path):
    cfg, sd, names = checkpoint(tmp_path)
    a = tmp_path / "a.safetensors"
    data = a.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    a.write_bytes(data[:8] + b"[" + data[9:])  # not JSON
    assert load_error(cfg, tmp_path, layer=3) == \
        f"{a}: bad safetensors header: not a JSON object"
    a.write_bytes(struct.pack("<Q", len(data)) + data[8:])  # longer than the file
    assert load_error(cfg, tmp_path, layer=3).startswith(
        f"{a}: bad safetensors header: its length {len(data)} exceeds the file")
    a.write_bytes(data[:5])
    assert "shorter than the 8-byte header length" in load_error(cfg, tmp_path, layer=3)
    header = json.loads(data[8:8 + n])
    header[names[0]]["data_offsets"][1] += 2
    text = json.dumps(header).encode()
    a.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    msg = load_error(cfg, tmp_path, layer=3)
    assert msg.startswith(f"{a}: tensor '{names[0]}' (BF16 ") and "data_offsets" in msg


def test_index_errors(tmp_path):
    cfg, sd, names = checkpoint(tmp_path)
    index = tmp_path / "model.safetensors.index.json"
    weight_map = json.loads(index.read_text())["weight_map"]
    # The index places a tensor in a shard that lacks it.
    weight_map[names[0]] = "b.safetensors"
    index.write_text(json.dumps({"weight_map": weight_map}))
    assert load_error(cfg, tmp_path, layer=3) == (
        f"{tmp_path / 'b.safetensors'}: no tensor '{names[0]}' in this shard, where "
        f"{index} places it")
    weight_map[names[0]] = "c.safetensors"
    index.write_text(json.dumps({"weight_map": weight_map}))
    assert load_error(cfg, tmp_path, layer=3) == (
        f"{tmp_path / 'c.safetensors'}: no such shard, which {index} names for '{names[0]}'")
    weight_map[names[0]] = "../a.safetensors"
    index.write_text(json.dumps({"weight_map": weight_map}))
    assert "not a file name in the index's directory" in load_error(cfg, tmp_path, layer=3)
    index.write_text("{")
    assert load_error(cfg, tmp_path, layer=3) == f"{index}: bad checkpoint index: not JSON"
    index.write_text("{}")
    assert "no 'weight_map' object" in load_error(cfg, tmp_path, layer=3)
    assert load_error(cfg, tmp_path / "nowhere", layer=3) == \
        f"{tmp_path / 'nowhere'}: no such file or directory"
    os.remove(index)
    for f in ("a.safetensors", "b.safetensors"):
        os.remove(tmp_path / f)
    assert load_error(cfg, tmp_path, layer=3) == \
        f"{tmp_path}: no model.safetensors.index.json or model.safetensors in the directory"


def test_checkpoint_errors_of_the_layer(tmp_path):
    cfg = qwen3()
    sd = Layer(cfg, 24).state_dict("fused")
    p = LAYER + "mlp."
    sd[p + "gate.weight"] = sd[p + "gate.weight"].astype(np.float64)
    write_safetensors(tmp_path / "model.safetensors", sd)
    assert load_error(cfg, tmp_path, layer=3) == (
        f"{tmp_path / 'model.safetensors'}: tensor '{p}gate.weight' is F64; a layer takes "
        f"BF16, F16, F32, F8_E4M3")
    sd = Layer(cfg, 24).state_dict("fused")
    del sd[p + "experts.down_proj"]
    write_safetensors(tmp_path / "model.safetensors", sd)
    assert load_error(cfg, tmp_path, layer=3) == (
        f"{tmp_path / 'model.safetensors'}: the checkpoint has no '{p}experts.down_proj'")
    assert load_error(cfg, tmp_path, layer=4) == (
        f"{tmp_path / 'model.safetensors'}: the checkpoint has no MoE block at layer 4: "
        f"no 'model.layers.4.mlp.gate.weight' or 'model.layers.4.block_sparse_moe.gate.weight'")
    assert load_error(cfg, tmp_path, layer=3, prefix="x.") == \
        "load_layer: give layer= or prefix=, not both"


# -- torch ------------------------------------------------------------------------

def test_torch_tensors_stay_torch():
    torch = pytest.importorskip("torch")
    from moe_mlir.weights import as_torch
    for naming in ("fused", "w"):
        cfg = mixtral()
        layer = Layer(cfg, 30)
        block = LAYER + ("mlp." if naming == "fused" else "block_sparse_moe.")
        sd = as_torch(layer.state_dict(naming, block))
        got = layer_weights(cfg, sd, layer=3)
        want = layer.expected()
        for name in want:
            assert got[name].dtype == torch.bfloat16, name
            assert torch.equal(got[name].view(torch.int16),
                               torch.from_numpy(want[name].view(np.int16))), name
        # transposed fused down_proj: named, not transposed
        if naming == "fused":
            sd[block + "experts.down_proj"] = sd[block + "experts.down_proj"].transpose(1, 2)
            with pytest.raises(MoeError, match=r"experts.down_proj' has shape \[4, 128, 256\]"):
                layer_weights(cfg, sd, layer=3)


# -- end to end: a Mixtral layer on the CPU -----------------------------------------

def test_mixtral_checkpoint_runs_on_the_cpu(tmp_path):
    from moe_mlir.cpu import CPUProgram
    cfg = mixtral()
    assert (cfg.experts, cfg.k, cfg.normalize, cfg.router_logits) == (E, 2, True, "bf16")
    layer = Layer(cfg, 40)
    p = LAYER + "block_sparse_moe."
    sd = layer.state_dict("w", p)
    rng = np.random.default_rng(41)
    x = ref.bf16_bits_to_f32(bf16_bits(rng, (9, H), std=1.0))
    program = CPUProgram(cfg.layer_mlir())

    got = program.run(cfg.name, x, *as_numpy(layer_weights(cfg, sd, layer=3)).values())

    # The same layer from the checkpoint's tensors, stacked here by hand:
    # w1 (gate) rows, then w3 (up) rows; w2 is down.
    gate_up = np.zeros((E, 2 * I, H), np.uint16)
    down = np.zeros((E, H, I), np.uint16)
    for e in range(E):
        gate_up[e, :I] = sd[f"{p}experts.{e}.w1.weight"]
        gate_up[e, I:] = sd[f"{p}experts.{e}.w3.weight"]
        down[e] = sd[f"{p}experts.{e}.w2.weight"]
    want = program.run(cfg.name, x, sd[p + "gate.weight"], gate_up, down)
    assert np.isfinite(got).all() and np.abs(got).max() > 0
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    # Gate and up swapped is another layer: the comparison can tell.
    swapped = np.concatenate([gate_up[:, I:], gate_up[:, :I]], axis=1)
    other = program.run(cfg.name, x, sd[p + "gate.weight"], swapped, down)
    assert not np.array_equal(other, want)

    # And from a safetensors directory, in transformers 5's fused naming.
    fused = layer.state_dict("fused", LAYER + "mlp.")
    write_safetensors(tmp_path / "model.safetensors", fused)
    from_disk = program.run(cfg.name, x, *load_layer(cfg, tmp_path, layer=3).values())
    np.testing.assert_array_equal(from_disk.view(np.uint32), want.view(np.uint32))
