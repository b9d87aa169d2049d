"""MoE layers from a HuggingFace config.json or from keyword arguments.

    from moe_mlir.config import LayerConfig
    cfg = LayerConfig.from_hf("config.json")          # or the model's directory
    cfg = LayerConfig(experts=256, k=8, hidden=7168, intermediate=2048,
                      groups=8, group_topk=4, group_score=("topk_sum", 2),
                      score="sigmoid", bias=True, normalize=True, scale=2.5,
                      shared_intermediate=2048)
    text = cfg.layer_mlir()        # a func.func holding one moe.layer
    text = cfg.routing_mlir()      # gate -> score -> route only

from_hf reads the family its config.json's `model_type` names (MODEL_TYPES),
each from its own keys (FAMILY_KEYS) and as transformers computes it:

  deepseek_v2          softmax; topk_method "group_limited_greedy" (V2: group
                       score = max, scale only when not normalising) or
                       "greedy" (V2-Lite: no groups)
  deepseek_v3, kimi_k2 topk_method "noaux_tc": sigmoid, aux-loss-free bias,
                       group score = sum of the top-2 biased scores,
                       normalise then scale
  glm4_moe             as noaux_tc, with no topk_method/scoring_func keys
  qwen3_moe, mixtral   softmax over all experts, top-k, normalised iff
                       norm_topk_prob (Mixtral: always); no shared expert
  qwen2_moe            as qwen3_moe, plus a shared expert that moe-mlir does
                       not express yet (its sigmoid gate): only
                       shared_expert_intermediate_size 0 is accepted

A config.json without model_type that has topk_method is read as DeepSeek's
(any of the three methods), as before model_type was read. The DeepSeek
fields follow docs/semantics.md (the routing rules and the config values
of V3 and V2). Qwen and Mixtral compute the router logits with a Linear in the
activation dtype (router_logits = dtype: the f32 sums rounded to bf16 before
the f32 softmax); DeepSeek, Kimi and GLM in f32. `torch_dtype` (`dtype` in
transformers 5) gives dtype, bf16 when absent. Keys that do not change one
MoE layer's math are ignored: which layers are MoE (first_k_dense_replace,
decoder_sparse_step, mlp_only_layers, moe_layer_freq, num_hidden_layers),
attention, the dense MLP's intermediate_size (except Mixtral's, its expert
width), and Mixtral/Qwen's router_aux_loss_coef (a loss over all layers'
logits, not one of moe-mlir's: set aux_loss_alpha to train with one).

Every value is checked against FIELDS (keywords) and the family's keys
(config.json) before anything is built from it: its type (an int is not a
bool, a bool is JSON true/false, not "false" or 0), its range (finite,
fitting the f32 or i32 the IR holds it in) and then the rules between
fields. Whatever fails raises MoeError naming the keyword or the config.json
key. An absent config.json key takes its default (transformers' config
class's for glm4_moe, qwen*_moe and mixtral, DeepSeek's own
configuration_deepseek.py's for the DeepSeek families; the expert count, k,
hidden size and expert width, and DeepSeek's topk_method and scoring_func,
have none and are required); an explicit null does too for DeepSeek's
n_group, topk_group and n_shared_experts only, which DeepSeek's
DeepseekV2/V3Config default to None ("not set") and so write as null, and
for torch_dtype/dtype; any other null, and a 0 where at least 1 is needed
(topk_group = 0), is an error.
"""

import json
import os
import re
from collections.abc import Mapping

from ._capi import MoeError
from .validate import (boolean, choice, describe, f32, identifier, integer, mlir_float,
                       optional)

_REQUIRED = object()


def _group_score(value, where, name):
    """('max', 1), ('topk_sum', n) or their IR spelling, "max" or "topk_sum<n>"."""
    if isinstance(value, str):
        m = re.fullmatch(r"(max)|topk_sum<([0-9]{1,10})>", value.strip())
        if not m:
            raise MoeError(f"{where}: '{name}' must be 'max' or 'topk_sum<n>', "
                           f"got {describe(value)}")
        value = ("max", 1) if m[1] else ("topk_sum", int(m[2]))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise MoeError(f"{where}: '{name}' must be ('max', 1) or ('topk_sum', n), "
                       f"got {describe(value)}")
    kind = choice("max", "topk_sum")(value[0], where, name)
    n = integer(1)(value[1], where, name)
    if kind == "max" and n != 1:
        raise MoeError(f"{where}: '{name}' ('max', {n}): 'max' takes no count, use "
                       f"('max', 1)")
    return kind, n


def _topology(value, where, name):
    """(nodes, GPUs per node) or (nodes, GPUs per node, node limit); a node
    limit of 0 is none, as in #moe.topology."""
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise MoeError(f"{where}: '{name}' must be (nodes, gpus_per_node[, node_limit]), "
                       f"got {describe(value)}")
    nodes = integer(1)(value[0], where, f"{name} nodes")
    gpus = integer(1)(value[1], where, f"{name} gpus_per_node")
    if len(value) == 2:
        return nodes, gpus
    return nodes, gpus, integer(0, nodes)(value[2], where, f"{name} node_limit")


# Each keyword of LayerConfig: its default (_REQUIRED: none) and the check of
# its value alone; LayerConfig._check_together relates them.
FIELDS = {
    "experts": (_REQUIRED, integer(1)),
    "k": (_REQUIRED, integer(1)),
    "hidden": (_REQUIRED, integer(1)),
    "intermediate": (_REQUIRED, integer(1)),
    "groups": (1, integer(1)),
    "group_topk": (1, integer(1)),
    "group_score": (("max", 1), _group_score),
    "score": ("softmax", choice("sigmoid", "softmax")),
    "bias": (False, boolean),
    "normalize": (False, boolean),
    "scale": (1.0, f32(positive=True)),
    "shared_intermediate": (0, integer(0)),
    "dtype": ("bf16", choice("bf16", "f16", "f32")),
    # The router logits' precision: "f32" keeps the f32-accumulated sums
    # (DeepSeek, Kimi, GLM); the activation dtype rounds them to it before
    # scoring, as a Linear in that dtype does (Qwen, Mixtral). moe.layer's
    # `logits = <type>`; routing_mlir takes the logits as given.
    "router_logits": ("f32", choice("f32", "bf16", "f16")),
    # FP8 experts (DeepSeek-V3's checkpoints): e4m3 weights with 128x128
    # block scales, activations quantised per token and 128; scale_fmt
    # "ue8m0" (V3.1) rounds activation scales up to powers of two.
    "fp8": (False, boolean),
    "scale_fmt": (None, optional(choice("ue8m0"))),
    "aux_loss_alpha": (0.0, f32(positive=False)),
    "seq_aux": (True, boolean),
    # device and comm losses need a device count that no field gives.
    "loss_kind": (None, optional(choice("sequence", "expert"))),
    "topology": (None, optional(_topology)),
    "name": ("moe_layer", identifier),
}

# Each config.json key the DeepSeek families (deepseek_v2, deepseek_v3,
# kimi_k2, and a config without model_type) read: the check of its value and
# its default when absent (_REQUIRED: none). n_shared_experts counts experts
# of moe_intermediate_size: shared_intermediate is their product. The
# routing defaults are those of DeepSeek's own configuration_deepseek.py,
# which the published checkpoints name in their auto_map (n_group,
# topk_group, n_shared_experts None: not set); their config.json files give
# every key. (transformers' DeepseekV3Config defaults to V3's values, its
# DeepseekV2Config to n_shared_experts 2.)
HF_KEYS = {
    "topk_method": (choice("noaux_tc", "group_limited_greedy", "greedy", "gready"),
                    _REQUIRED),
    "scoring_func": (FIELDS["score"][1], _REQUIRED),
    "n_routed_experts": (FIELDS["experts"][1], _REQUIRED),
    "num_experts_per_tok": (FIELDS["k"][1], _REQUIRED),
    "hidden_size": (FIELDS["hidden"][1], _REQUIRED),
    "moe_intermediate_size": (FIELDS["intermediate"][1], _REQUIRED),
    "n_group": (FIELDS["groups"][1], 1),
    "topk_group": (FIELDS["group_topk"][1], 1),
    "n_shared_experts": (integer(0), 0),
    "norm_topk_prob": (FIELDS["normalize"][1], False),
    "routed_scaling_factor": (FIELDS["scale"][1], 1.0),
    "aux_loss_alpha": (FIELDS["aux_loss_alpha"][1], 0.0),
    "seq_aux": (FIELDS["seq_aux"][1], True),
}
_HF_NULL_IS_ABSENT = ("n_group", "topk_group", "n_shared_experts")

# The other families' keys, same form. Their defaults are those of
# transformers' config classes (configuration_<family>.py); the shape keys
# (experts, k, hidden, expert width) are required, as for DeepSeek.
_SHAPE = dict(num_experts_per_tok=(FIELDS["k"][1], _REQUIRED),
              hidden_size=(FIELDS["hidden"][1], _REQUIRED))
GLM4_MOE_KEYS = {  # Glm4MoeConfig
    "n_routed_experts": (FIELDS["experts"][1], _REQUIRED),
    **_SHAPE,
    "moe_intermediate_size": (FIELDS["intermediate"][1], _REQUIRED),
    "n_group": (FIELDS["groups"][1], 1),
    "topk_group": (FIELDS["group_topk"][1], 1),
    "n_shared_experts": (integer(0), 1),
    "norm_topk_prob": (FIELDS["normalize"][1], True),
    "routed_scaling_factor": (FIELDS["scale"][1], 1.0),
}
QWEN3_MOE_KEYS = {  # Qwen3MoeConfig
    "num_experts": (FIELDS["experts"][1], _REQUIRED),
    **_SHAPE,
    "moe_intermediate_size": (FIELDS["intermediate"][1], _REQUIRED),
    "norm_topk_prob": (FIELDS["normalize"][1], False),
}
QWEN2_MOE_KEYS = {  # Qwen2MoeConfig
    **QWEN3_MOE_KEYS,
    "shared_expert_intermediate_size": (integer(0), 5632),
}
MIXTRAL_KEYS = {  # MixtralConfig: intermediate_size is each expert's width
    "num_local_experts": (FIELDS["experts"][1], _REQUIRED),
    **_SHAPE,
    "intermediate_size": (FIELDS["intermediate"][1], _REQUIRED),
}
FAMILY_KEYS = {
    "deepseek_v2": HF_KEYS,
    "deepseek_v3": HF_KEYS,
    "glm4_moe": GLM4_MOE_KEYS,
    "kimi_k2": HF_KEYS,
    "mixtral": MIXTRAL_KEYS,
    "qwen2_moe": QWEN2_MOE_KEYS,
    "qwen3_moe": QWEN3_MOE_KEYS,
}
MODEL_TYPES = tuple(sorted(FAMILY_KEYS))

# The topk_method each DeepSeek model_type routes with (no model_type: any).
_DEEPSEEK_METHODS = {
    # DeepseekV2TopkRouter: "greedy" or "group_limited_greedy" ("gready" is
    # DeepSeek's configuration_deepseek.py default, a greedy).
    "deepseek_v2": ("greedy", "gready", "group_limited_greedy"),
    # DeepseekV3TopkRouter routes noaux_tc only (DeepSeek's modeling code
    # raises on any other). Kimi-K2 is that architecture: transformers reads
    # a kimi_k2 text config as deepseek_v3 (configuration_kimi_k25.py).
    "deepseek_v3": ("noaux_tc",),
    "kimi_k2": ("noaux_tc",),
}

# config.json's torch_dtype (transformers 5: dtype) -> dtype.
_TORCH_DTYPES = {"bfloat16": "bf16", "float16": "f16", "float32": "f32"}

def _hf_fp8(quant, where):
    """A config.json quantization_config -> the fp8 and scale_fmt keywords.
    Only DeepSeek's block-scaled FP8 is understood (spec section 10):
    quant_method "fp8", fmt "e4m3", dynamic activation scales, 128x128
    weight blocks (HF's default when weight_block_size is absent)."""
    name = "quantization_config"
    if not isinstance(quant, Mapping):
        raise MoeError(f"{where}: '{name}' must be an object, got {describe(quant)}")
    method = quant.get("quant_method")
    if method != "fp8":
        raise MoeError(f"{where}: '{name}.quant_method' {describe(method)} is not "
                       f"supported; moe-mlir reads block-scaled FP8 checkpoints "
                       f"(quant_method 'fp8', as DeepSeek-V3/R1 and Kimi-K2 ship)")
    fmt = quant.get("fmt", "e4m3")
    if fmt != "e4m3":
        raise MoeError(f"{where}: '{name}.fmt' must be 'e4m3' (float8_e4m3fn "
                       f"weights), got {describe(fmt)}")
    scheme = quant.get("activation_scheme", "dynamic")
    if scheme != "dynamic":
        raise MoeError(f"{where}: '{name}.activation_scheme' must be 'dynamic' "
                       f"(per-token scales computed at run time), got {describe(scheme)}")
    block = quant.get("weight_block_size", [128, 128])
    if not isinstance(block, (list, tuple)) or [type(b) for b in block] != [int, int] \
            or list(block) != [128, 128]:
        raise MoeError(f"{where}: '{name}.weight_block_size' must be [128, 128] "
                       f"(the block the kernels and the dialect use), got {describe(block)}")
    scale_fmt = optional(choice("ue8m0"))(quant.get("scale_fmt"), where,
                                          f"{name}.scale_fmt")
    return dict(fp8=True, scale_fmt=scale_fmt)


def _hf_family(config, where):
    """The config's model_type, one of MODEL_TYPES; None for a DeepSeek
    config.json without one (it has topk_method)."""
    supported = ", ".join(MODEL_TYPES)
    if "model_type" not in config:
        if "topk_method" in config:
            return None
        # No guess: the families share key names but not their meaning.
        raise MoeError(f"{where}: missing 'model_type', which names the model family; "
                       f"supported: {supported}")
    family = config["model_type"]
    if not isinstance(family, str):
        raise MoeError(f"{where}: 'model_type' must be a string, got {describe(family)}")
    if family not in FAMILY_KEYS:
        raise MoeError(f"{where}: model_type {describe(family)} is not supported; "
                       f"supported: {supported}")
    return family


def _hf_read(config, keys, where, family):
    """The values of `keys` in config, checked; absent ones take their default."""
    needed = f"a {family} MoE layer" if family else "an MoE layer"
    hf = {}
    for key, (check, default) in keys.items():
        value = config.get(key, default)
        if value is None and keys is HF_KEYS and key in _HF_NULL_IS_ABSENT:
            value = default
        if value is _REQUIRED:
            raise MoeError(f"{where}: missing '{key}', needed for {needed}")
        hf[key] = check(value, where, key)
    return hf


def _hf_dtype(config, where):
    """torch_dtype (transformers 5 writes dtype) -> the dtype keyword; absent
    or null (transformers' "not set"): bf16."""
    found = {}
    for key in ("dtype", "torch_dtype"):
        if config.get(key) is not None:
            found[key] = _TORCH_DTYPES[choice(*_TORCH_DTYPES)(config[key], where, key)]
    if len(set(found.values())) > 1:
        raise MoeError(f"{where}: 'dtype' {describe(config['dtype'])} and 'torch_dtype' "
                       f"{describe(config['torch_dtype'])} disagree")
    return next(iter(found.values()), "bf16")


def _hf_deepseek(hf, where, family):
    """DeepSeek's routing by topk_method (family None: any method)."""
    method, k = hf["topk_method"], hf["num_experts_per_tok"]
    if family is not None and method not in _DEEPSEEK_METHODS[family]:
        allowed = [f"'{m}'" for m in _DEEPSEEK_METHODS[family]]
        allowed = allowed[0] if len(allowed) == 1 else \
            ", ".join(allowed[:-1]) + " or " + allowed[-1]
        raise MoeError(f"{where}: model_type '{family}' routes with topk_method {allowed}, "
                       f"got '{method}'")
    # DeepseekV2TopkRouter takes the softmax whatever scoring_func says, and
    # DeepSeek's own V2 code refuses any other: say so rather than guess.
    if family == "deepseek_v2" and hf["scoring_func"] != "softmax":
        raise MoeError(f"{where}: model_type 'deepseek_v2' routes softmax scores, but "
                       f"scoring_func is '{hf['scoring_func']}'")
    groups, group_topk = hf["n_group"], hf["topk_group"]
    norm, factor = hf["norm_topk_prob"], hf["routed_scaling_factor"]
    if method == "noaux_tc":
        # DeepseekV3TopkRouter: f32 logits, sigmoid, the choice on score +
        # e_score_correction_bias, groups ranked by their top-2 sum; weights
        # the unbiased scores, / (sum + 1e-20) iff norm_topk_prob, x factor.
        if hf["scoring_func"] != "sigmoid":
            raise MoeError(f"{where}: topk_method 'noaux_tc' (DeepSeek-V3) routes "
                           f"sigmoid scores, but scoring_func is '{hf['scoring_func']}'")
        routing = dict(groups=groups, group_topk=group_topk,
                       group_score=("topk_sum", 2), bias=True,
                       normalize=norm, scale=factor)
    elif method == "group_limited_greedy":
        # V2: normalise without scaling, or scale without normalising
        # (DeepSeek's modeling_deepseek.py; transformers' DeepseekV2TopkRouter
        # always scales and ignores norm_topk_prob, false in V2's configs).
        normalize = norm and k > 1
        routing = dict(groups=groups, group_topk=group_topk, group_score=("max", 1),
                       bias=False, normalize=normalize,
                       scale=1.0 if normalize else factor)
    else:  # greedy, and HF's default spelling of it, gready
        if groups > 1 and group_topk < groups:
            raise MoeError(f"{where}: topk_method '{method}' ignores groups, but "
                           f"n_group = {groups} with topk_group = {group_topk} "
                           f"asks for a group limit")
        normalize = norm and k > 1
        routing = dict(groups=1, group_topk=1, group_score=("max", 1), bias=False,
                       normalize=normalize, scale=1.0 if normalize else factor)
    inter = hf["moe_intermediate_size"]
    # router_logits stays f32: both routers cast x and the weight to f32.
    return dict(experts=hf["n_routed_experts"], k=k, hidden=hf["hidden_size"],
                intermediate=inter, score=hf["scoring_func"],
                shared_intermediate=hf["n_shared_experts"] * inter,
                aux_loss_alpha=hf["aux_loss_alpha"], seq_aux=hf["seq_aux"], **routing)


def _hf_glm4_moe(hf):
    """Glm4MoeTopkRouter (modeling_glm4_moe.py) is DeepseekV3TopkRouter: f32
    logits (x and the weight cast to f32), sigmoid, the choice on score +
    e_score_correction_bias with groups ranked by their top-2 sum, weights
    the unbiased scores / (sum + 1e-20) iff norm_topk_prob, then always x
    routed_scaling_factor; Glm4MoeMoE adds a shared MLP of
    moe_intermediate_size x n_shared_experts."""
    inter = hf["moe_intermediate_size"]
    return dict(experts=hf["n_routed_experts"], k=hf["num_experts_per_tok"],
                hidden=hf["hidden_size"], intermediate=inter, score="sigmoid", bias=True,
                groups=hf["n_group"], group_topk=hf["topk_group"],
                group_score=("topk_sum", 2), normalize=hf["norm_topk_prob"],
                scale=hf["routed_scaling_factor"],
                shared_intermediate=hf["n_shared_experts"] * inter)


def _hf_softmax_topk(hf, where, family):
    """Mixtral, Qwen2-MoE, Qwen3-MoE: the router is a bias-free Linear in the
    activation dtype (router_logits = dtype, set by from_hf), its logits go
    through an f32 softmax over all experts, top-k, and the k weights are
    divided by their sum (MixtralTopKRouter: always; Qwen2/3MoeTopKRouter:
    iff norm_topk_prob); nothing scales them."""
    if family == "mixtral":
        experts, width, normalize = hf["num_local_experts"], hf["intermediate_size"], True
    else:
        experts, width = hf["num_experts"], hf["moe_intermediate_size"]
        normalize = hf["norm_topk_prob"]
    shared = hf.get("shared_expert_intermediate_size", 0)
    if shared:
        # Qwen2MoeSparseMoeBlock: y += sigmoid(shared_expert_gate(x)) * shared_expert(x).
        raise MoeError(f"{where}: Qwen2-MoE's shared expert (shared_expert_intermediate_size "
                       f"= {shared}) is scaled by a sigmoid gate of x (shared_expert_gate, "
                       f"a [1, hidden] linear) that moe-mlir does not express yet, so the "
                       f"layer would be wrong; a config with shared_expert_intermediate_size "
                       f"0 works")
    return dict(experts=experts, k=hf["num_experts_per_tok"], hidden=hf["hidden_size"],
                intermediate=width, score="softmax", normalize=normalize)


# The families whose router is a Linear in the activation dtype.
_LINEAR_ROUTER = ("mixtral", "qwen2_moe", "qwen3_moe")


_tokens = optional(integer(1))
_rate = f32(positive=False)


class LayerConfig:
    """One MoE layer's shape and routing, checked when built."""

    def __init__(self, **kwargs):
        self._build(kwargs, "LayerConfig")

    def _build(self, kwargs, where):
        unknown = sorted(set(kwargs) - set(FIELDS))
        if unknown:
            raise MoeError(f"{where}: unknown argument(s) {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(FIELDS))}")
        for key, (default, check) in FIELDS.items():
            if key not in kwargs and default is _REQUIRED:
                raise MoeError(f"{where}: '{key}' is required")
            setattr(self, key, check(kwargs.get(key, default), where, key))
        self._check_together(where)

    # -- checks --------------------------------------------------------------

    def _check_together(self, where):
        if self.router_logits not in ("f32", self.dtype):
            raise MoeError(f"{where}: 'router_logits' ({self.router_logits!r}) must be 'f32' "
                           f"or the activation 'dtype' ({self.dtype!r}): the router rounds "
                           f"its logits to the dtype it runs in")
        if self.scale_fmt is not None and not self.fp8:
            raise MoeError(f"{where}: 'scale_fmt' ({self.scale_fmt!r}) is only for FP8 "
                           f"experts (fp8=True)")
        if self.fp8:
            for key in ("hidden", "intermediate", "shared_intermediate"):
                if getattr(self, key) % 128:
                    raise MoeError(f"{where}: FP8 experts need '{key}' "
                                   f"({getattr(self, key)}) to be a multiple of 128 "
                                   f"(weights and activations are scaled in blocks of "
                                   f"128)")
        if self.experts % self.groups:
            raise MoeError(f"{where}: 'experts' ({self.experts}) must be divisible by "
                           f"'groups' ({self.groups})")
        if not 1 <= self.group_topk <= self.groups:
            raise MoeError(f"{where}: 'group_topk' ({self.group_topk}) must be in "
                           f"[1, groups = {self.groups}]")
        per_group = self.experts // self.groups
        reachable = per_group * self.group_topk
        if self.k > reachable:
            raise MoeError(f"{where}: 'k' ({self.k}) exceeds the {reachable} experts in "
                           f"{self.group_topk} of {self.groups} groups")
        if self.group_score[1] > per_group:
            raise MoeError(f"{where}: 'group_score' {self.group_score!r} must sum at most "
                           f"the {per_group} experts of a group")
        if self.topology is not None:
            nodes, gpus, limit = (self.topology + (0,))[:3]
            if self.experts % (nodes * gpus):
                raise MoeError(f"{where}: 'topology' {self.topology!r} must place the "
                               f"{self.experts} experts evenly on nodes x GPUs")
            # The verifier's rule: only whole groups on a node, at most
            # node_limit of them, keep a token within node_limit nodes.
            if limit and limit != nodes and self.groups % nodes:
                raise MoeError(f"{where}: 'topology' node_limit ({limit}) is not guaranteed: "
                               f"'groups' ({self.groups}) must be a multiple of the {nodes} "
                               f"nodes")
            if limit and limit != nodes and self.group_topk > limit:
                raise MoeError(f"{where}: 'topology' node_limit ({limit}) is not guaranteed: "
                               f"'group_topk' ({self.group_topk}) must not exceed it")

    # -- HuggingFace ---------------------------------------------------------

    @classmethod
    def from_hf(cls, config, **overrides):
        """From a HuggingFace config.json (a path, a model directory holding
        one, or a dict) of one of MODEL_TYPES; `overrides` are LayerConfig
        keywords replacing what the file gives."""
        where = "config"
        if isinstance(config, (str, os.PathLike)):
            if os.path.isdir(config):  # a model directory
                config = os.path.join(os.fsdecode(config), "config.json")
            where = str(config)
            try:
                with open(config, "rb") as f:
                    config = json.loads(f.read())
            except (OSError, ValueError) as err:
                raise MoeError(f"{where}: cannot read a JSON config: {err}") from None
            except RecursionError:
                raise MoeError(f"{where}: cannot read a JSON config: it nests too "
                               f"deeply") from None
        if not isinstance(config, Mapping):
            raise MoeError(f"{where}: a config must be a JSON object (a dict), got "
                           f"{type(config).__name__}")

        family = _hf_family(config, where)
        hf = _hf_read(config, FAMILY_KEYS.get(family, HF_KEYS), where, family)
        if family in _LINEAR_ROUTER:
            args = _hf_softmax_topk(hf, where, family)
        elif family == "glm4_moe":
            args = _hf_glm4_moe(hf)
        else:
            args = _hf_deepseek(hf, where, family)
        args["dtype"] = _hf_dtype(config, where)
        if family in _LINEAR_ROUTER:
            # The logits are in the activation dtype, the overridden one too.
            args["router_logits"] = overrides.get("dtype", args["dtype"])
        if config.get("quantization_config") is not None:
            args.update(_hf_fp8(config["quantization_config"], where))
        # fp8=False asks for the bf16 layer of an FP8 checkpoint (dequantised
        # weights): its activation scale format goes with it.
        if overrides.get("fp8") is False and "scale_fmt" not in overrides:
            args["scale_fmt"] = None
        args.update(overrides)
        cfg = cls.__new__(cls)
        cfg._build(args, where)
        return cfg

    # -- MLIR ----------------------------------------------------------------

    def _signature(self, where, tokens, name, suffix=""):
        """The token dimension's text ("?": dynamic) and the function's name,
        checked as the fields are: both are written into the IR."""
        T = "?" if tokens is None else str(_tokens(tokens, where, "tokens"))
        return T, self.name + suffix if name is None else identifier(name, where, "name")

    def _routing_attrs(self):
        text = f"score {self.score} k = {self.k}"
        if self.groups > 1:
            text += f" groups = {self.groups} group_topk = {self.group_topk}"
            kind, n = self.group_score
            text += " group_score = " + ("max" if kind == "max" else f"topk_sum<{n}>")
        if self.normalize:
            text += " normalize"
        if self.scale != 1.0:
            text += f" scale = {mlir_float(self.scale)}"
        return text

    def loss_attr(self, seq_len=None):
        """The #moe.loss of the config's auxiliary loss (None without one):
        V3-style routing (bias) gets the sequence-wise loss on the plain
        top-k, V2-style the expert-level loss on the selected experts."""
        seq_len = _tokens(seq_len, "loss_attr", "seq_len")
        if not self.aux_loss_alpha:
            return None
        kind = self.loss_kind or ("sequence" if self.bias else "expert")
        text = f"#moe.loss<{kind}, alpha = {mlir_float(self.aux_loss_alpha)}"
        if kind == "sequence":
            text += ", counts = topk"
        if seq_len and self.seq_aux:
            text += f", seq_len = {seq_len}"
        return text + ">"

    def layer_mlir(self, tokens=None, training=False, seq_len=None, name=None):
        """A module with one func.func computing the layer (and, with
        `training`, its auxiliary loss). `tokens` fixes T (None: dynamic)."""
        T, fn = self._signature("layer_mlir", tokens, name)
        E, H, I, Is, dt = self.experts, self.hidden, self.intermediate, \
            self.shared_intermediate, self.dtype
        args = [f"%x: tensor<{T}x{H}x{dt}>", f"%router: tensor<{E}x{H}x{dt}>"]
        types = [f"tensor<{T}x{H}x{dt}>", f"tensor<{E}x{H}x{dt}>"]
        operands = "%x router %router"
        if self.bias:
            args.append(f"%bias: tensor<{E}xf32>")
            types.append(f"tensor<{E}xf32>")
            operands += " bias %bias"
        for name, shape in self.weight_shapes().items():
            element = "f32" if name.endswith("_scales") else "f8E4M3FN" if self.fp8 else dt
            t = f"tensor<{'x'.join(map(str, shape))}x{element}>"
            args.append(f"%{name}: {t}")
            types.append(t)
        operands += " experts %gate_up, %down"
        if self.fp8:
            operands += " scales %gate_up_scales, %down_scales"
        if Is:
            operands += " shared %shared_gate_up, %shared_down"
            if self.fp8:
                operands += " shared_scales %shared_gate_up_scales, %shared_down_scales"
        if self.scale_fmt == "ue8m0":
            operands += " ue8m0"
        results = [f"tensor<{T}x{H}x{dt}>"]
        attrs = self._routing_attrs()
        if self.router_logits != "f32":
            attrs += f" logits = {self.router_logits}"
        if self.topology is not None:
            nodes, gpus, limit = (self.topology + (0,))[:3]
            epg = E // (nodes * gpus)
            attrs += (f" topology <nodes = {nodes}, gpus_per_node = {gpus}, "
                      f"experts_per_gpu = {epg}" + (f", node_limit = {limit}" if limit else "")
                      + ">")
        loss = self.loss_attr(seq_len) if training else None
        if training and loss is None:
            raise MoeError("layer_mlir(training=True): the config has no auxiliary loss "
                           "(aux_loss_alpha is 0)")
        if loss:
            attrs += f" losses [{loss}]"
            results.append("tensor<f32>")
        res = ", ".join(f"%r{i}" for i in range(len(results)))
        return (f"func.func @{fn}({', '.join(args)}) -> ({', '.join(results)}) {{\n"
                f"  {res} = moe.layer {operands}\n      {attrs}\n"
                f"      : ({', '.join(types)}) -> ({', '.join(results)})\n"
                f"  return {res} : {', '.join(results)}\n}}\n")

    def weight_shapes(self):
        """The expert operands of the layer after x, router and bias, in
        order, with their shapes: gate_up [E, 2I, H], down [E, H, I], with
        FP8 their block scales [E, 2I/128, H/128] and [E, H/128, I/128],
        then the same for the shared expert (E = 1) if there is one."""
        E, H, I, Is = self.experts, self.hidden, self.intermediate, \
            self.shared_intermediate
        shapes = {}
        for prefix, n, width in (("", E, I), ("shared_", 1, Is)):
            if not width:
                continue
            shapes[prefix + "gate_up"] = (n, 2 * width, H)
            shapes[prefix + "down"] = (n, H, width)
            if self.fp8:
                shapes[prefix + "gate_up_scales"] = (n, 2 * width // 128, H // 128)
                shapes[prefix + "down_scales"] = (n, H // 128, width // 128)
        if self.fp8:  # routed scales right after the routed weights
            order = ["gate_up", "down", "gate_up_scales", "down_scales"]
            if Is:
                order += ["shared_gate_up", "shared_down", "shared_gate_up_scales",
                          "shared_down_scales"]
            shapes = {k: shapes[k] for k in order}
        return shapes

    def routing_mlir(self, tokens=None, name=None):
        """A module with one func.func: logits [T, E] f32 (and the bias) to
        ids and weights."""
        T, fn = self._signature("routing_mlir", tokens, name, "_route")
        E, K = self.experts, self.k
        args = [f"%z: tensor<{T}x{E}xf32>"] + ([f"%bias: tensor<{E}xf32>"] if self.bias else [])
        route = self._routing_attrs().split(" ", 2)[2]  # after "score <fn>"
        bias = " bias %bias" if self.bias else ""
        btype = f", tensor<{E}xf32>" if self.bias else ""
        return (f"func.func @{fn}({', '.join(args)}) -> (tensor<{T}x{K}xi32>, tensor<{T}x{K}xf32>) {{\n"
                f"  %s = moe.score {self.score} %z : tensor<{T}x{E}xf32> -> tensor<{T}x{E}xf32>\n"
                f"  %ids, %w = moe.route %s{bias} {route}\n"
                f"      : (tensor<{T}x{E}xf32>{btype}) -> (tensor<{T}x{K}xi32>, tensor<{T}x{K}xf32>)\n"
                f"  return %ids, %w : tensor<{T}x{K}xi32>, tensor<{T}x{K}xf32>\n}}\n")

    def router_training_mlir(self, seq_len=None, rate=1e-3, tokens=None, name=None):
        """One router training step: logits [T, E] f32 (and the bias) to ids,
        weights, the auxiliary loss, its gradient with respect to the logits
        and (with a bias) the updated bias."""
        T, fn = self._signature("router_training_mlir", tokens, name, "_router_train")
        rate = _rate(rate, "router_training_mlir", "rate")
        loss = self.loss_attr(seq_len)
        if loss is None:
            raise MoeError("router_training_mlir: the config has no auxiliary loss "
                           "(aux_loss_alpha is 0)")
        body = loss[len("#moe.loss"):]
        E, K = self.experts, self.k
        z, ids, w = (f"tensor<{T}x{E}xf32>", f"tensor<{T}x{K}xi32>", f"tensor<{T}x{K}xf32>")
        args = [f"%z: {z}"] + ([f"%bias: tensor<{E}xf32>"] if self.bias else [])
        results = [ids, w, "tensor<f32>", z] + ([f"tensor<{E}xf32>"] if self.bias else [])
        route = self._routing_attrs().split(" ", 2)[2]
        bias = " bias %bias" if self.bias else ""
        btype = f", tensor<{E}xf32>" if self.bias else ""
        lines = [
            f"func.func @{fn}({', '.join(args)}) -> ({', '.join(results)}) {{",
            f"  %s = moe.score {self.score} %z : {z} -> {z}",
            f"  %ids, %w = moe.route %s{bias} {route} : ({z}{btype}) -> ({ids}, {w})",
            f"  %loss = moe.balance_loss %s, %ids {body} : {z}, {ids} -> tensor<f32>",
            f"  %grad = moe.balance_loss_grad {self.score} %s, %ids {body} : {z}, {ids} -> {z}",
        ]
        outs = ["%ids", "%w", "%loss", "%grad"]
        if self.bias:
            lines += [f"  %counts = moe.expert_counts %ids : {ids} -> tensor<{E}xi32>",
                      f"  %new_bias = moe.bias_update %bias, %counts rate = {mlir_float(rate)} "
                      f": tensor<{E}xf32>, tensor<{E}xi32>"]
            outs.append("%new_bias")
        lines += [f"  return {', '.join(outs)} : {', '.join(results)}", "}", ""]
        return "\n".join(lines)

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k, (default, _) in FIELDS.items()
                           if getattr(self, k) != default)
        return f"LayerConfig({fields})"

