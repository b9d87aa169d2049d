"""FP8 checkpoints: LayerConfig.from_hf reads quantization_config, and
moe_mlir.weights.layer_weights maps a DeepSeek-V3 state dict (the
checkpoint's exact names, e4m3 weights, f32 weight_scale_inv blocks) into
the layer's operands without dequantising. The loaded layer runs on the CPU
reference and matches, bitwise, a NumPy pipeline that reads each expert's
projections by name (so the gate/up concatenation and the stacking are
checked independently)."""

import copy
import json
import os

import numpy as np
import pytest

import fp8_reference as fp8
import reference as ref
from moe_mlir import MoeError
from moe_mlir.config import LayerConfig
from moe_mlir.cpu import CPUProgram
from moe_mlir.ir import Module
from moe_mlir.weights import as_numpy, layer_weights

F32 = np.float32
HF = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "hf")
V3_FP8 = os.path.join(HF, "deepseek-v3-fp8.json")


def v3_config(**changes):
    with open(V3_FP8) as f:
        config = json.load(f)
    config.update(changes)
    return config


# -- from_hf ------------------------------------------------------------------

def test_v3_checkpoint_config_is_fp8():
    cfg = LayerConfig.from_hf(V3_FP8)
    assert cfg.fp8 and cfg.scale_fmt is None
    assert (cfg.experts, cfg.hidden, cfg.intermediate, cfg.shared_intermediate) == \
        (256, 7168, 2048, 2048)
    text = cfg.layer_mlir()
    assert "%gate_up: tensor<256x4096x7168xf8E4M3FN>" in text
    assert "%gate_up_scales: tensor<256x32x56xf32>" in text
    assert "%down_scales: tensor<256x56x16xf32>" in text
    assert "%shared_gate_up_scales: tensor<1x32x56xf32>" in text
    assert "scales %gate_up_scales, %down_scales" in text and "ue8m0" not in text
    with Module(text) as m:
        m.verify()


def test_v31_scale_fmt():
    config = v3_config()
    config["quantization_config"]["scale_fmt"] = "ue8m0"
    cfg = LayerConfig.from_hf(config)
    assert cfg.fp8 and cfg.scale_fmt == "ue8m0"
    text = cfg.layer_mlir()
    assert " ue8m0" in text
    with Module(text) as m:
        m.verify()


def test_fp8_false_gives_the_bf16_layer():
    config = v3_config()
    config["quantization_config"]["scale_fmt"] = "ue8m0"
    cfg = LayerConfig.from_hf(config, fp8=False)
    assert not cfg.fp8 and cfg.scale_fmt is None
    assert "f8E4M3FN" not in cfg.layer_mlir()


def test_no_quantization_config_is_bf16():
    assert not LayerConfig.from_hf(os.path.join(HF, "deepseek-v3.json")).fp8


@pytest.mark.parametrize("change,message", [
    ({"quant_method": "awq"}, "'quantization_config.quant_method' 'awq' is not supported"),
    ({"fmt": "e5m2"}, "'quantization_config.fmt' must be 'e4m3'"),
    ({"activation_scheme": "static"}, "'quantization_config.activation_scheme' must be 'dynamic'"),
    ({"weight_block_size": [64, 64]}, "'quantization_config.weight_block_size' must be [128, 128]"),
    ({"weight_block_size": [128.0, 128]}, "must be [128, 128]"),
    ({"weight_block_size": "128"}, "must be [128, 128]"),
    ({"scale_fmt": "e8m0"}, "unknown quantization_config.scale_fmt 'e8m0' (known: ue8m0)"),
])
def test_unsupported_quantization_configs(change, message):
    config = v3_config()
    config["quantization_config"].update(change)
    with pytest.raises(MoeError) as err:
        LayerConfig.from_hf(config)
    assert message in str(err.value)


def test_quantization_config_must_be_an_object():
    with pytest.raises(MoeError, match="'quantization_config' must be an object"):
        LayerConfig.from_hf(v3_config(quantization_config="fp8"))


def test_fp8_needs_blocks_of_128():
    with pytest.raises(MoeError, match="FP8 experts need 'intermediate' \\(1400\\) to be a "
                                       "multiple of 128"):
        LayerConfig.from_hf(v3_config(moe_intermediate_size=1400))
    with pytest.raises(MoeError, match="'hidden' \\(200\\)"):
        LayerConfig(experts=8, k=2, hidden=200, intermediate=128, fp8=True)
    with pytest.raises(MoeError, match="'scale_fmt' \\('ue8m0'\\) is only for FP8"):
        LayerConfig(experts=8, k=2, hidden=256, intermediate=128, scale_fmt="ue8m0")


# -- the state dict -------------------------------------------------------------

SMALL = dict(experts=8, k=2, hidden=256, intermediate=128, shared_intermediate=256,
             groups=4, group_topk=2, group_score=("topk_sum", 2), score="sigmoid",
             bias=True, normalize=True, scale=2.5, fp8=True)


def codes(rng, shape):
    c = rng.integers(0, 256, size=shape).astype(np.uint8)
    return np.where((c & 0x7F) == 0x7F, c ^ 1, c).astype(np.uint8)


def scales(rng, shape):
    return (rng.uniform(1, 2, size=shape) * 2.0 ** rng.integers(-12, -7, size=shape)).astype(F32)


def state_dict(rng, cfg, prefix):
    """The checkpoint's names, dtypes and shapes: e4m3 codes (uint8), f32
    weight_scale_inv [ceil(N/128), ceil(K/128)], the router as bf16 values
    in float32, the f32 correction bias."""
    E, H, I, Is = cfg.experts, cfg.hidden, cfg.intermediate, cfg.shared_intermediate
    sd = {prefix + "gate.weight": ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(
              rng.normal(0, 0.1, size=(E, H)).astype(F32))),
          prefix + "gate.e_score_correction_bias": rng.normal(0, 0.1, size=E).astype(F32)}

    def mlp(base, width):
        for proj, (n, k) in (("gate_proj", (width, H)), ("up_proj", (width, H)),
                             ("down_proj", (H, width))):
            sd[f"{prefix}{base}.{proj}.weight"] = codes(rng, (n, k))
            sd[f"{prefix}{base}.{proj}.weight_scale_inv"] = scales(rng, (-(-n // 128),
                                                                         -(-k // 128)))
    for i in range(E):
        mlp(f"experts.{i}", I)
    if Is:
        mlp("shared_experts", Is)
    return sd


def per_expert_ffn(sd, prefix, base, q, s, fmt):
    """One expert on quantised rows, from its named projections."""
    g = fp8.block_scaled_gemm(q, s, sd[f"{prefix}{base}.gate_proj.weight"],
                              sd[f"{prefix}{base}.gate_proj.weight_scale_inv"])
    u = fp8.block_scaled_gemm(q, s, sd[f"{prefix}{base}.up_proj.weight"],
                              sd[f"{prefix}{base}.up_proj.weight_scale_inv"])
    bf16 = lambda v: ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(v))
    silu = (g / (F32(1) + fp8.expf(-g))).astype(F32)
    h = bf16((silu * u).astype(F32))
    qh, sh = fp8.act_quant(h, 128, fmt)
    return bf16(fp8.block_scaled_gemm(qh, sh, sd[f"{prefix}{base}.down_proj.weight"],
                                      sd[f"{prefix}{base}.down_proj.weight_scale_inv"]))


@pytest.mark.parametrize("scale_fmt", [None, "ue8m0"])
def test_loaded_layer_runs_bitwise(scale_fmt):
    cfg = LayerConfig(**SMALL, scale_fmt=scale_fmt)
    rng = np.random.default_rng(3 if scale_fmt else 4)
    prefix = "model.layers.3.mlp."
    sd = state_dict(rng, cfg, prefix)
    # A full model's dict: another MoE layer and attention weights too.
    sd.update(state_dict(np.random.default_rng(99), cfg, "model.layers.4.mlp."))
    sd["model.layers.3.self_attn.q_proj.weight"] = np.zeros((4, 4), F32)
    w = layer_weights(cfg, sd, layer=3)
    assert list(w) == ["router", "bias"] + list(cfg.weight_shapes())
    for name, shape in cfg.weight_shapes().items():
        assert w[name].shape == shape, name
        assert w[name].dtype == (np.float32 if name.endswith("_scales") else np.uint8)

    T = 9
    x = ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(rng.normal(size=(T, 256)).astype(F32)))
    got = CPUProgram(cfg.layer_mlir()).run("moe_layer", x, *as_numpy(w).values())

    z = (x.astype(np.float64) @ sd[prefix + "gate.weight"].astype(np.float64).T).astype(F32)
    ids, weights, _, _ = ref.route(ref.sigmoid(z), 2, sd[prefix + "gate.e_score_correction_bias"],
                                   4, 2, ("topk_sum", 2), True, 2.5)
    q, s = fp8.act_quant(x, 128, scale_fmt)
    expert_out = {}
    for t in range(T):
        for slot in range(2):
            e = int(ids[t, slot])
            expert_out[t, slot] = per_expert_ffn(sd, prefix, f"experts.{e}", q[t:t + 1],
                                                 s[t:t + 1], scale_fmt)[0]
    shared = per_expert_ffn(sd, prefix, "shared_experts", q, s, scale_fmt)
    want = np.zeros_like(x)
    for t in range(T):
        acc = np.zeros(256, F32)
        for slot in range(2):
            acc = (acc + weights[t, slot] * expert_out[t, slot]).astype(F32)
        want[t] = (acc + shared[t]).astype(F32)
    want = ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(want))
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_prefix_is_found_when_there_is_one_block():
    cfg = LayerConfig(**SMALL)
    sd = state_dict(np.random.default_rng(5), cfg, "model.layers.7.mlp.")
    w = layer_weights(cfg, sd)
    np.testing.assert_array_equal(w["down"][3], sd["model.layers.7.mlp.experts.3.down_proj.weight"])
    np.testing.assert_array_equal(w["gate_up"][5][128:],
                                  sd["model.layers.7.mlp.experts.5.up_proj.weight"])
    np.testing.assert_array_equal(w["gate_up_scales"][5][:1],
                                  sd["model.layers.7.mlp.experts.5.gate_proj.weight_scale_inv"])
    # The MoE block's own state dict (no prefix at all) works too.
    own = {k[len("model.layers.7.mlp."):]: v for k, v in sd.items()}
    assert layer_weights(cfg, own)["router"].shape == (8, 256)


def test_bf16_checkpoint_without_scales():
    cfg = LayerConfig(**dict(SMALL, fp8=False))
    rng = np.random.default_rng(6)
    sd = {k: v for k, v in state_dict(rng, LayerConfig(**SMALL), "").items()
          if not k.endswith("weight_scale_inv")}
    sd = {k: (v.astype(F32) if k.endswith("proj.weight") else v) for k, v in sd.items()}
    w = layer_weights(cfg, sd)
    assert "gate_up_scales" not in w and w["gate_up"].dtype == F32


def broken(change):
    cfg = LayerConfig(**SMALL)
    sd = state_dict(np.random.default_rng(7), cfg, "model.layers.3.mlp.")
    change(sd)
    with pytest.raises(MoeError) as err:
        layer_weights(cfg, sd, layer=3)
    return str(err.value)


def test_missing_tensor_is_named():
    p = "model.layers.3.mlp."
    msg = broken(lambda sd: sd.pop(p + "experts.5.up_proj.weight_scale_inv"))
    assert msg == f"the state dict has no '{p}experts.5.up_proj.weight_scale_inv'"


def test_wrong_shape_is_named():
    p = "model.layers.3.mlp."
    def transpose(sd):
        sd[p + "experts.2.down_proj.weight"] = sd[p + "experts.2.down_proj.weight"].T.copy()
    msg = broken(transpose)
    assert msg == f"'{p}experts.2.down_proj.weight' has shape [128, 256], expected [256, 128]"
    def scale_shape(sd):
        sd[p + "shared_experts.gate_proj.weight_scale_inv"] = np.ones((2, 3), F32)
    assert "has shape [2, 3], expected [2, 2]" in broken(scale_shape)


def test_wrong_dtype_is_named():
    p = "model.layers.3.mlp."
    def dequantised(sd):
        sd[p + "experts.0.gate_proj.weight"] = sd[p + "experts.0.gate_proj.weight"].astype(F32)
    msg = broken(dequantised)
    assert msg == (f"'{p}experts.0.gate_proj.weight' must be a NumPy uint8 (e4m3 codes) array "
                   f"for f8E4M3FN, got float32")
    def f64_scales(sd):
        sd[p + "experts.0.down_proj.weight_scale_inv"] = np.ones((2, 1))
    assert "weight_scale_inv' must be a NumPy float32 array for f32, got float64" in \
        broken(f64_scales)
    def not_an_array(sd):
        sd[p + "gate.weight"] = [[0.0]]
    assert "must be a torch tensor or a NumPy array, got list" in broken(not_an_array)


def test_tensors_beyond_the_config_are_an_error():
    p = "model.layers.3.mlp."
    def extra_expert(sd):
        for k in [k for k in sd if ".experts.0." in k]:
            sd[k.replace(".experts.0.", ".experts.8.")] = sd[k]
    msg = broken(extra_expert)
    assert msg.startswith("the state dict has tensors the config does not use: "
                          f"'{p}experts.8.down_proj.weight'")
    assert "and 3 more" in msg
    # A bias-free config on a V3 block.
    cfg = LayerConfig(**dict(SMALL, bias=False, score="softmax", group_score=("max", 1)))
    sd = state_dict(np.random.default_rng(8), LayerConfig(**SMALL), "")
    with pytest.raises(MoeError, match="'gate.e_score_correction_bias'"):
        layer_weights(cfg, sd)


def test_block_choice():
    cfg = LayerConfig(**SMALL)
    sd = state_dict(np.random.default_rng(9), cfg, "model.layers.3.mlp.")
    sd.update(state_dict(np.random.default_rng(10), cfg, "model.layers.4.mlp."))
    with pytest.raises(MoeError, match="holds 2 MoE blocks .*choose one with layer= or prefix="):
        layer_weights(cfg, sd)
    with pytest.raises(MoeError, match="no MoE block in the state dict"):
        layer_weights(cfg, {"lm_head.weight": np.zeros(2, F32)})
    with pytest.raises(MoeError, match="give layer= or prefix=, not both"):
        layer_weights(cfg, sd, layer=3, prefix="x.")
    with pytest.raises(MoeError, match="'layer' must be a non-negative integer"):
        layer_weights(cfg, sd, layer=True)
    with pytest.raises(MoeError, match="the state dict must be a mapping"):
        layer_weights(cfg, [1, 2])
    assert layer_weights(cfg, sd, prefix="model.layers.4.mlp.")["router"].shape == (8, 256)


def test_quantize_weight_takes_torch_tensors():
    # The GPU tests (test_pytorch.py) check it bitwise against
    # fp8_reference.weight_quant; without PyTorch it says what it needs.
    from moe_mlir.weights import quantize_weight
    with pytest.raises(MoeError, match="w must be a torch tensor, got ndarray"):
        quantize_weight(np.zeros((128, 128), np.float32))
