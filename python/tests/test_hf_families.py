"""LayerConfig.from_hf for each model family its config.json's model_type
names: the fields each gives (as transformers computes the layer), the
router logits' precision, and the errors for what moe-mlir cannot read or
express.

IR with `logits = ...` is checked as text only here: the dialect's parser
learns the attribute separately. The families without it (GLM, Kimi) are
parsed and verified."""

import copy
import json
import os

import pytest

from moe_mlir import MoeError
from moe_mlir.config import FAMILY_KEYS, HF_KEYS, MODEL_TYPES, LayerConfig
from moe_mlir.ir import Module

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HF = os.path.join(ROOT, "examples", "hf")
SUPPORTED = "deepseek_v2, deepseek_v3, glm4_moe, kimi_k2, mixtral, qwen2_moe, qwen3_moe"


def raises(fn, *args, **kwargs):
    """The MoeError fn raises; exactly that class."""
    with pytest.raises(Exception) as err:
        fn(*args, **kwargs)
    assert type(err.value) is MoeError, repr(err.value)
    return str(err.value)


def example(name):
    with open(os.path.join(HF, name + ".json")) as f:
        return json.load(f)


# The published config.json values (their MoE-relevant keys) of these models
# on the Hugging Face Hub; examples/hf/*.json hold the same for Mixtral-8x7B,
# Qwen3-30B-A3B, GLM-4.5-Air and Kimi-K2.
MIXTRAL_8X22B = {  # mistralai/Mixtral-8x22B-v0.1
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 6144,
    "intermediate_size": 16384, "num_local_experts": 8, "num_experts_per_tok": 2,
    "num_hidden_layers": 56, "router_aux_loss_coef": 0.001, "torch_dtype": "bfloat16"}
QWEN3_235B_A22B = {  # Qwen/Qwen3-235B-A22B
    "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 4096,
    "intermediate_size": 12288, "moe_intermediate_size": 1536, "num_experts": 128,
    "num_experts_per_tok": 8, "norm_topk_prob": True, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "num_hidden_layers": 94, "router_aux_loss_coef": 0.001,
    "torch_dtype": "bfloat16"}
GLM_45 = {  # zai-org/GLM-4.5
    "architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe", "hidden_size": 5120,
    "intermediate_size": 12288, "moe_intermediate_size": 1536, "n_routed_experts": 160,
    "n_shared_experts": 1, "num_experts_per_tok": 8, "n_group": 1, "topk_group": 1,
    "norm_topk_prob": True, "routed_scaling_factor": 2.5, "first_k_dense_replace": 3,
    "num_hidden_layers": 92, "torch_dtype": "bfloat16"}
QWEN15_MOE_A27B = {  # Qwen/Qwen1.5-MoE-A2.7B
    "architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_size": 2048,
    "intermediate_size": 5632, "moe_intermediate_size": 1408,
    "shared_expert_intermediate_size": 5632, "num_experts": 60, "num_experts_per_tok": 4,
    "norm_topk_prob": False, "decoder_sparse_step": 1, "num_hidden_layers": 24,
    "router_aux_loss_coef": 0.001, "torch_dtype": "bfloat16"}
QWEN2_57B_A14B = {  # Qwen/Qwen2-57B-A14B
    "architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_size": 3584,
    "intermediate_size": 18944, "moe_intermediate_size": 2560,
    "shared_expert_intermediate_size": 20480, "num_experts": 64, "num_experts_per_tok": 8,
    "norm_topk_prob": False, "decoder_sparse_step": 1, "num_hidden_layers": 28,
    "router_aux_loss_coef": 0.001, "torch_dtype": "bfloat16"}

# Every field a family sets, besides the defaults it leaves.
SOFTMAX = dict(score="softmax", bias=False, scale=1.0, groups=1, group_topk=1,
               group_score=("max", 1), shared_intermediate=0, dtype="bf16")
SIGMOID = dict(score="sigmoid", bias=True, group_score=("topk_sum", 2), dtype="bf16",
               router_logits="f32")
FAMILIES = [
    ("mixtral-8x7b", example("mixtral-8x7b"),
     dict(SOFTMAX, experts=8, k=2, hidden=4096, intermediate=14336, normalize=True,
          router_logits="bf16")),
    ("mixtral-8x22b", MIXTRAL_8X22B,
     dict(SOFTMAX, experts=8, k=2, hidden=6144, intermediate=16384, normalize=True,
          router_logits="bf16")),
    ("qwen3-30b-a3b", example("qwen3-30b-a3b"),
     dict(SOFTMAX, experts=128, k=8, hidden=2048, intermediate=768, normalize=True,
          router_logits="bf16")),
    ("qwen3-235b-a22b", QWEN3_235B_A22B,
     dict(SOFTMAX, experts=128, k=8, hidden=4096, intermediate=1536, normalize=True,
          router_logits="bf16")),
    # Qwen1.5-MoE-A2.7B without its shared expert: not normalised.
    ("qwen1.5-moe-a2.7b-unshared", dict(QWEN15_MOE_A27B, shared_expert_intermediate_size=0),
     dict(SOFTMAX, experts=60, k=4, hidden=2048, intermediate=1408, normalize=False,
          router_logits="bf16")),
    ("glm-4.5-air", example("glm-4.5-air"),
     dict(SIGMOID, experts=128, k=8, hidden=4096, intermediate=1408, groups=1,
          group_topk=1, normalize=True, scale=1.0, shared_intermediate=1408)),
    ("glm-4.5", GLM_45,
     dict(SIGMOID, experts=160, k=8, hidden=5120, intermediate=1536, groups=1,
          group_topk=1, normalize=True, scale=2.5, shared_intermediate=1536)),
    ("kimi-k2", example("kimi-k2"),
     dict(SIGMOID, experts=384, k=8, hidden=7168, intermediate=2048, groups=1,
          group_topk=1, normalize=True, scale=2.827, shared_intermediate=2048, fp8=True,
          scale_fmt=None, aux_loss_alpha=0.001)),
    ("deepseek-v3", example("deepseek-v3"),
     dict(SIGMOID, experts=256, k=8, hidden=7168, intermediate=2048, groups=8,
          group_topk=4, normalize=True, scale=2.5, shared_intermediate=2048, fp8=False)),
    ("deepseek-v2", example("deepseek-v2"),
     dict(experts=160, k=6, hidden=5120, intermediate=1536, score="softmax", bias=False,
          groups=8, group_topk=3, group_score=("max", 1), normalize=False, scale=16.0,
          shared_intermediate=3072, router_logits="f32", dtype="bf16")),
    ("deepseek-v2-lite", example("deepseek-v2-lite"),
     dict(SOFTMAX, experts=64, k=6, hidden=2048, intermediate=1408, normalize=False,
          shared_intermediate=2816, router_logits="f32")),
]


@pytest.mark.parametrize("name,config,want", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_fields(name, config, want):
    cfg = LayerConfig.from_hf(copy.deepcopy(config))
    got = {key: getattr(cfg, key) for key in want}
    assert got == want


def test_model_types_and_their_keys():
    assert MODEL_TYPES == tuple(SUPPORTED.split(", "))
    assert set(FAMILY_KEYS) == set(MODEL_TYPES)
    for family in ("deepseek_v2", "deepseek_v3", "kimi_k2"):
        assert FAMILY_KEYS[family] is HF_KEYS
    assert "num_local_experts" in FAMILY_KEYS["mixtral"]
    assert "n_routed_experts" not in FAMILY_KEYS["mixtral"]


# -- the IR ------------------------------------------------------------------------

@pytest.mark.parametrize("name,config,tail", [
    ("mixtral-8x7b", example("mixtral-8x7b"), "score softmax k = 2 normalize logits = bf16\n"),
    ("qwen3-30b-a3b", example("qwen3-30b-a3b"), "score softmax k = 8 normalize logits = bf16\n"),
    ("qwen1.5-unshared", dict(QWEN15_MOE_A27B, shared_expert_intermediate_size=0),
     "score softmax k = 4 logits = bf16\n"),
])
def test_bf16_router_logits_in_layer_mlir(name, config, tail):
    cfg = LayerConfig.from_hf(config)
    text = cfg.layer_mlir()
    assert f"experts %gate_up, %down\n      {tail}" in text
    assert text.count("logits =") == 1
    # The routing alone takes the logits as given.
    assert "logits =" not in cfg.routing_mlir()
    assert "router_logits='bf16'" in repr(cfg)


def test_logits_attribute_goes_before_topology_and_losses():
    cfg = LayerConfig.from_hf(example("mixtral-8x7b"), topology=(1, 8), aux_loss_alpha=0.02)
    text = cfg.layer_mlir(training=True)
    assert ("score softmax k = 2 normalize logits = bf16 topology <nodes = 1, "
            "gpus_per_node = 8, experts_per_gpu = 1> losses [#moe.loss<expert") in text


@pytest.mark.parametrize("name", ["glm-4.5-air", "kimi-k2", "deepseek-v3", "deepseek-v2"])
def test_f32_router_logits_have_no_attribute(name):
    cfg = LayerConfig.from_hf(os.path.join(HF, name + ".json"))
    assert cfg.router_logits == "f32"
    assert "logits =" not in cfg.layer_mlir()
    assert "router_logits" not in repr(cfg)


@pytest.mark.parametrize("name,config,overrides,tail", [
    ("glm-4.5-air", example("glm-4.5-air"), {},
     "score sigmoid k = 8 normalize\n"),
    ("glm-4.5", GLM_45, {}, "score sigmoid k = 8 normalize scale = 2.5\n"),
    ("kimi-k2", example("kimi-k2"), {}, "score sigmoid k = 8 normalize scale = 2.827\n"),
    ("kimi-k2-bf16", example("kimi-k2"), dict(fp8=False),
     "score sigmoid k = 8 normalize scale = 2.827\n"),
])
def test_glm_and_kimi_ir_verifies(name, config, overrides, tail):
    cfg = LayerConfig.from_hf(config, **overrides)
    text = cfg.layer_mlir()
    assert " bias %bias experts %gate_up, %down" in text
    assert "shared %shared_gate_up, %shared_down" in text
    assert f"\n      {tail}" in text
    assert ("f8E4M3FN" in text) == cfg.fp8
    with Module(text) as m:
        m.verify()
    if cfg.aux_loss_alpha:
        with Module(cfg.layer_mlir(training=True, seq_len=4096, name="train")
                    + cfg.routing_mlir()) as m:
            m.verify()


# -- dtype and router_logits -----------------------------------------------------

@pytest.mark.parametrize("keys,dtype", [
    ({}, "bf16"),
    ({"torch_dtype": None}, "bf16"),
    ({"torch_dtype": "bfloat16"}, "bf16"),
    ({"torch_dtype": "float16"}, "f16"),
    ({"torch_dtype": "float32"}, "f32"),
    ({"dtype": "float16"}, "f16"),  # transformers 5
    ({"dtype": "float16", "torch_dtype": "float16"}, "f16"),
])
def test_dtype_from_the_config(keys, dtype):
    qwen = {k: v for k, v in example("qwen3-30b-a3b").items() if k != "torch_dtype"}
    cfg = LayerConfig.from_hf({**qwen, **keys})
    assert (cfg.dtype, cfg.router_logits) == (dtype, dtype)
    assert ("logits =" in cfg.layer_mlir()) == (dtype != "f32")
    if dtype != "f32":
        assert f"normalize logits = {dtype}\n" in cfg.layer_mlir()
        assert f"%x: tensor<?x2048x{dtype}>" in cfg.layer_mlir()
    glm = {k: v for k, v in example("glm-4.5-air").items() if k != "torch_dtype"}
    cfg = LayerConfig.from_hf({**glm, **keys})
    assert (cfg.dtype, cfg.router_logits) == (dtype, "f32")


def test_overrides_of_dtype_and_router_logits():
    mixtral = example("mixtral-8x7b")
    cfg = LayerConfig.from_hf(mixtral, dtype="f16")  # the logits follow the activations
    assert (cfg.dtype, cfg.router_logits) == ("f16", "f16")
    assert "normalize logits = f16\n" in cfg.layer_mlir()
    cfg = LayerConfig.from_hf(mixtral, dtype="f32")
    assert (cfg.dtype, cfg.router_logits) == ("f32", "f32")
    assert "logits =" not in cfg.layer_mlir()
    cfg = LayerConfig.from_hf(mixtral, router_logits="f32")  # f32 logits asked for
    assert (cfg.dtype, cfg.router_logits) == ("bf16", "f32")
    Module(cfg.layer_mlir()).verify()
    assert raises(LayerConfig.from_hf, mixtral, router_logits="f16") == (
        "config: 'router_logits' ('f16') must be 'f32' or the activation 'dtype' ('bf16'): "
        "the router rounds its logits to the dtype it runs in")


@pytest.mark.parametrize("kwargs,message", [
    (dict(router_logits="bf16", dtype="f16"),
     "LayerConfig: 'router_logits' ('bf16') must be 'f32' or the activation 'dtype' ('f16')"),
    (dict(router_logits="bf16", dtype="f32"),
     "LayerConfig: 'router_logits' ('bf16') must be 'f32' or the activation 'dtype' ('f32')"),
    (dict(router_logits="f64"),
     "LayerConfig: unknown router_logits 'f64' (known: f32, bf16, f16)"),
    (dict(router_logits=None), "LayerConfig: 'router_logits' must be a string, got None"),
])
def test_router_logits_keyword(kwargs, message):
    assert raises(LayerConfig, experts=8, k=2, hidden=64, intermediate=64,
                  **kwargs).startswith(message)


def test_router_logits_keyword_valid():
    cfg = LayerConfig(experts=8, k=2, hidden=64, intermediate=64, router_logits="bf16")
    assert "score softmax k = 2 logits = bf16\n" in cfg.layer_mlir()
    cfg = LayerConfig(experts=8, k=2, hidden=64, intermediate=64, dtype="f16",
                      router_logits="f16")
    assert "score softmax k = 2 logits = f16\n" in cfg.layer_mlir()


@pytest.mark.parametrize("keys,message", [
    ({"torch_dtype": "float64"},
     "config: unknown torch_dtype 'float64' (known: bfloat16, float16, float32)"),
    ({"torch_dtype": "auto"}, "config: unknown torch_dtype 'auto'"),
    ({"torch_dtype": 16}, "config: 'torch_dtype' must be a string, got 16"),
    ({"dtype": ["bfloat16"]}, "config: 'dtype' must be a string, got ['bfloat16']"),
    ({"dtype": "bfloat16", "torch_dtype": "float32"},
     "config: 'dtype' 'bfloat16' and 'torch_dtype' 'float32' disagree"),
])
def test_bad_dtypes(keys, message):
    assert raises(LayerConfig.from_hf, {**example("mixtral-8x7b"), **keys}).startswith(message)


# -- model_type -------------------------------------------------------------------

@pytest.mark.parametrize("value,message", [
    ("llama", f"config: model_type 'llama' is not supported; supported: {SUPPORTED}"),
    ("deepseek_v32", f"config: model_type 'deepseek_v32' is not supported; supported: "
                     f"{SUPPORTED}"),
    ("Mixtral", f"config: model_type 'Mixtral' is not supported; supported: {SUPPORTED}"),
    ("", f"config: model_type '' is not supported; supported: {SUPPORTED}"),
    (3, "config: 'model_type' must be a string, got 3"),
    (None, "config: 'model_type' must be a string, got None"),
    (["mixtral"], "config: 'model_type' must be a string, got ['mixtral']"),
])
def test_model_type_errors(value, message):
    assert raises(LayerConfig.from_hf, {**example("mixtral-8x7b"), "model_type": value}) == \
        message


def test_missing_model_type():
    mixtral = {k: v for k, v in example("mixtral-8x7b").items() if k != "model_type"}
    assert raises(LayerConfig.from_hf, mixtral) == (
        f"config: missing 'model_type', which names the model family; supported: {SUPPORTED}")
    # A DeepSeek config without one: read by its topk_method, as before.
    for name in ("deepseek-v3", "deepseek-v2", "deepseek-v2-lite"):
        config = example(name)
        want = LayerConfig.from_hf(config)
        del config["model_type"]
        got = LayerConfig.from_hf(config)
        assert repr(got) == repr(want)
        assert raises(LayerConfig.from_hf, {**config, "hidden_size": None}) == (
            "config: 'hidden_size' must be an integer, got None")
        del config["hidden_size"]
        assert raises(LayerConfig.from_hf, config) == (
            "config: missing 'hidden_size', needed for an MoE layer")


@pytest.mark.parametrize("name,key", [
    ("mixtral-8x7b", "num_local_experts"),
    ("mixtral-8x7b", "intermediate_size"),
    ("mixtral-8x7b", "num_experts_per_tok"),
    ("mixtral-8x7b", "hidden_size"),
    ("qwen3-30b-a3b", "num_experts"),
    ("qwen3-30b-a3b", "moe_intermediate_size"),
    ("glm-4.5-air", "n_routed_experts"),
    ("glm-4.5-air", "moe_intermediate_size"),
    ("kimi-k2", "topk_method"),
    ("kimi-k2", "n_routed_experts"),
])
def test_missing_family_key(name, key):
    config = example(name)
    family = config.pop(key) and config["model_type"]
    assert raises(LayerConfig.from_hf, config) == (
        f"config: missing '{key}', needed for a {family} MoE layer")


def test_each_family_reads_its_own_keys():
    # Mixtral's expert count is num_local_experts; DeepSeek's name is not read.
    mixtral = example("mixtral-8x7b")
    mixtral["n_routed_experts"] = mixtral.pop("num_local_experts")
    assert raises(LayerConfig.from_hf, mixtral) == (
        "config: missing 'num_local_experts', needed for a mixtral MoE layer")
    # Qwen's expert width is moe_intermediate_size, not intermediate_size.
    qwen = example("qwen3-30b-a3b")
    del qwen["moe_intermediate_size"]
    assert raises(LayerConfig.from_hf, qwen) == (
        "config: missing 'moe_intermediate_size', needed for a qwen3_moe MoE layer")
    # GLM has no topk_method or scoring_func: DeepSeek's, present, are not read.
    glm = dict(example("glm-4.5-air"), topk_method="greedy", scoring_func="softmax")
    assert LayerConfig.from_hf(glm).score == "sigmoid"
    # Keys that do not change one layer's math are not read.
    qwen = dict(example("qwen3-30b-a3b"), decoder_sparse_step="x", mlp_only_layers=None,
                num_hidden_layers=-1, router_aux_loss_coef="y", intermediate_size=None)
    assert LayerConfig.from_hf(qwen).aux_loss_alpha == 0.0


def test_transformers_defaults_of_absent_keys():
    # Glm4MoeConfig: n_group 1, topk_group 1, n_shared_experts 1,
    # norm_topk_prob True, routed_scaling_factor 1.0.
    glm = {k: v for k, v in GLM_45.items()
           if k not in ("n_group", "topk_group", "n_shared_experts", "norm_topk_prob",
                        "routed_scaling_factor")}
    cfg = LayerConfig.from_hf(glm)
    assert (cfg.groups, cfg.group_topk, cfg.shared_intermediate, cfg.normalize, cfg.scale) == \
        (1, 1, 1536, True, 1.0)
    # Qwen3MoeConfig: norm_topk_prob False.
    qwen = {k: v for k, v in example("qwen3-30b-a3b").items() if k != "norm_topk_prob"}
    assert not LayerConfig.from_hf(qwen).normalize
    # Qwen2MoeConfig: shared_expert_intermediate_size 5632, a shared expert.
    qwen2 = {k: v for k, v in QWEN15_MOE_A27B.items()
             if k != "shared_expert_intermediate_size"}
    assert "(shared_expert_intermediate_size = 5632)" in raises(LayerConfig.from_hf, qwen2)


@pytest.mark.parametrize("name,key,value,message", [
    ("mixtral-8x7b", "num_local_experts", "8", "'num_local_experts' must be an integer, got '8'"),
    ("mixtral-8x7b", "intermediate_size", 0, "'intermediate_size' must be at least 1, got 0"),
    ("qwen3-30b-a3b", "norm_topk_prob", "true", "'norm_topk_prob' must be true or false"),
    ("qwen3-30b-a3b", "norm_topk_prob", None, "'norm_topk_prob' must be true or false, got None"),
    ("qwen3-30b-a3b", "num_experts", 2**31, "'num_experts' must be at most 2147483647"),
    ("glm-4.5-air", "routed_scaling_factor", None, "'routed_scaling_factor' must be a number"),
    ("glm-4.5-air", "n_group", None, "'n_group' must be an integer, got None"),
    ("glm-4.5-air", "n_shared_experts", -1, "'n_shared_experts' must be at least 0, got -1"),
    ("glm-4.5-air", "n_group", 3, "'experts' (128) must be divisible by 'groups' (3)"),
    ("kimi-k2", "routed_scaling_factor", "2.827", "'routed_scaling_factor' must be a number"),
])
def test_family_values_name_the_key(name, key, value, message):
    assert raises(LayerConfig.from_hf, {**example(name), key: value}).startswith(
        f"config: {message}")


def test_qwen2_shared_expert_gate_is_refused():
    for config, width in ((QWEN15_MOE_A27B, 5632), (QWEN2_57B_A14B, 20480)):
        assert raises(LayerConfig.from_hf, config) == (
            f"config: Qwen2-MoE's shared expert (shared_expert_intermediate_size = {width}) "
            f"is scaled by a sigmoid gate of x (shared_expert_gate, a [1, hidden] linear) "
            f"that moe-mlir does not express yet, so the layer would be wrong; a config with "
            f"shared_expert_intermediate_size 0 works")
    assert "'shared_expert_intermediate_size' must be at least 0" in raises(
        LayerConfig.from_hf, dict(QWEN2_57B_A14B, shared_expert_intermediate_size=-1))
    cfg = LayerConfig.from_hf(dict(QWEN2_57B_A14B, shared_expert_intermediate_size=0))
    assert (cfg.experts, cfg.k, cfg.hidden, cfg.intermediate, cfg.shared_intermediate,
            cfg.normalize, cfg.router_logits) == (64, 8, 3584, 2560, 0, False, "bf16")
    assert "shared" not in cfg.layer_mlir()


@pytest.mark.parametrize("name,change,message", [
    ("deepseek-v3", dict(topk_method="greedy"),
     "model_type 'deepseek_v3' routes with topk_method 'noaux_tc', got 'greedy'"),
    ("kimi-k2", dict(topk_method="group_limited_greedy"),
     "model_type 'kimi_k2' routes with topk_method 'noaux_tc', got 'group_limited_greedy'"),
    ("kimi-k2", dict(scoring_func="softmax"),
     "topk_method 'noaux_tc' (DeepSeek-V3) routes sigmoid scores, but scoring_func is "
     "'softmax'"),
    ("deepseek-v2", dict(topk_method="noaux_tc", scoring_func="sigmoid"),
     "model_type 'deepseek_v2' routes with topk_method 'greedy', 'gready' or "
     "'group_limited_greedy', got 'noaux_tc'"),
    ("deepseek-v2", dict(scoring_func="sigmoid"),
     "model_type 'deepseek_v2' routes softmax scores, but scoring_func is 'sigmoid'"),
])
def test_deepseek_model_types_fix_the_method(name, change, message):
    assert raises(LayerConfig.from_hf, {**example(name), **change}) == f"config: {message}"


def test_deepseek_v2_gready_is_greedy():
    lite = dict(example("deepseek-v2-lite"), topk_method="gready")
    want = LayerConfig.from_hf(example("deepseek-v2-lite"))
    assert repr(LayerConfig.from_hf(lite)) == repr(want)


def test_quantization_config_in_other_families():
    block_fp8 = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                 "weight_block_size": [128, 128]}
    # Qwen3's FP8 checkpoints ship the same block FP8 as DeepSeek.
    cfg = LayerConfig.from_hf(dict(example("qwen3-30b-a3b"), quantization_config=block_fp8))
    assert cfg.fp8 and cfg.router_logits == "bf16"
    assert "%gate_up: tensor<128x1536x2048xf8E4M3FN>" in cfg.layer_mlir()
    # Other formats keep _hf_fp8's message.
    compressed = {"quant_method": "compressed-tensors", "format": "float-quantized"}
    assert raises(LayerConfig.from_hf, dict(example("glm-4.5-air"),
                                            quantization_config=compressed)) == (
        "config: 'quantization_config.quant_method' 'compressed-tensors' is not supported; "
        "moe-mlir reads block-scaled FP8 checkpoints (quant_method 'fp8', as DeepSeek-V3/R1 "
        "and Kimi-K2 ship)")
    # FP8 needs blocks of 128: Mixtral's 14336 is 112 of them.
    cfg = LayerConfig.from_hf(dict(example("mixtral-8x7b"), quantization_config=block_fp8))
    assert cfg.fp8
    assert "FP8 experts need 'intermediate' (1400)" in raises(
        LayerConfig.from_hf, dict(example("mixtral-8x7b"), quantization_config=block_fp8,
                                  intermediate_size=1400))


# -- a model directory ------------------------------------------------------------------

def test_model_directory(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(example("glm-4.5-air")))
    cfg = LayerConfig.from_hf(tmp_path)
    assert repr(cfg) == repr(LayerConfig.from_hf(example("glm-4.5-air")))
    assert repr(LayerConfig.from_hf(str(tmp_path))) == repr(cfg)
    Module(cfg.layer_mlir()).verify()
    # Errors name the file read.
    (tmp_path / "config.json").write_text(json.dumps(dict(example("mixtral-8x7b"),
                                                          model_type="llama")))
    assert raises(LayerConfig.from_hf, tmp_path).startswith(
        f"{tmp_path / 'config.json'}: model_type 'llama' is not supported")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert raises(LayerConfig.from_hf, empty) == (
        f"{empty / 'config.json'}: cannot read a JSON config: [Errno 2] No such file or "
        f"directory: '{empty / 'config.json'}'")
