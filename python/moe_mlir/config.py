"""MoE layers from a HuggingFace config.json or from keyword arguments.

    from moe_mlir.config import LayerConfig
    cfg = LayerConfig.from_hf("config.json")          # DeepSeek-V3/R1, V2, V2-Lite
    cfg = LayerConfig(experts=256, k=8, hidden=7168, intermediate=2048,
                      groups=8, group_topk=4, group_score=("topk_sum", 2),
                      score="sigmoid", bias=True, normalize=True, scale=2.5,
                      shared_intermediate=2048)
    text = cfg.layer_mlir()        # a func.func holding one moe.layer
    text = cfg.routing_mlir()      # gate -> score -> route only

The HF fields follow ../shared/spec/routing-semantics.md (sections 3.2-3.4,
4.4-4.5): `topk_method` "noaux_tc" (V3: sigmoid, aux-loss-free bias, group
score = sum of the top-2 biased scores, normalise then scale),
"group_limited_greedy" (V2: group score = max, scale only when not
normalising) and "greedy" (V2-Lite: no groups). Unknown values, missing
fields and contradictions raise MoeError naming the field.
"""

import json
import os

from ._capi import MoeError

_DTYPES = ("bf16", "f16", "f32")
_SCORES = ("sigmoid", "softmax")


class LayerConfig:
    """One MoE layer's shape and routing, checked when built."""

    _FIELDS = {
        "experts": None, "k": None, "hidden": None, "intermediate": None,
        "groups": 1, "group_topk": 1, "group_score": ("max", 1),
        "score": "softmax", "bias": False, "normalize": False, "scale": 1.0,
        "shared_intermediate": 0, "dtype": "bf16",
        "aux_loss_alpha": 0.0, "seq_aux": True, "loss_kind": None,
        "topology": None, "name": "moe_layer",
    }

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self._FIELDS))
        if unknown:
            raise MoeError(f"LayerConfig: unknown argument(s) {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(self._FIELDS))}")
        for key, default in self._FIELDS.items():
            value = kwargs.get(key, default)
            if value is None and key in ("experts", "k", "hidden", "intermediate"):
                raise MoeError(f"LayerConfig: '{key}' is required")
            setattr(self, key, value)
        if isinstance(self.group_score, str):
            self.group_score = _parse_group_score(self.group_score)
        self._check()

    # -- checks --------------------------------------------------------------

    def _check(self):
        def positive(name):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise MoeError(f"LayerConfig: '{name}' must be a positive integer, got {v!r}")
        for name in ("experts", "k", "hidden", "intermediate", "groups", "group_topk"):
            positive(name)
        if self.score not in _SCORES:
            raise MoeError(f"LayerConfig: 'score' must be one of {_SCORES}, got {self.score!r}")
        if self.dtype not in _DTYPES:
            raise MoeError(f"LayerConfig: 'dtype' must be one of {_DTYPES}, got {self.dtype!r}")
        if self.experts % self.groups:
            raise MoeError(f"LayerConfig: 'experts' ({self.experts}) must be divisible by "
                           f"'groups' ({self.groups})")
        if not 1 <= self.group_topk <= self.groups:
            raise MoeError(f"LayerConfig: 'group_topk' ({self.group_topk}) must be in "
                           f"[1, groups = {self.groups}]")
        reachable = self.experts // self.groups * self.group_topk
        if self.k > reachable:
            raise MoeError(f"LayerConfig: 'k' ({self.k}) exceeds the {reachable} experts in "
                           f"{self.group_topk} of {self.groups} groups")
        kind, n = self.group_score
        if kind not in ("max", "topk_sum") or not 1 <= n <= self.experts // self.groups:
            raise MoeError(f"LayerConfig: 'group_score' {self.group_score!r} must be "
                           f"('max', 1) or ('topk_sum', n) with 1 <= n <= "
                           f"{self.experts // self.groups}")
        if not self.scale > 0:
            raise MoeError(f"LayerConfig: 'scale' must be positive, got {self.scale!r}")
        if self.aux_loss_alpha < 0:
            raise MoeError(f"LayerConfig: 'aux_loss_alpha' must be >= 0, got "
                           f"{self.aux_loss_alpha!r}")
        if self.shared_intermediate < 0:
            raise MoeError("LayerConfig: 'shared_intermediate' must be >= 0")
        if self.topology is not None:
            nodes, gpus, limit = (tuple(self.topology) + (0,))[:3]
            if nodes < 1 or gpus < 1 or self.experts % (nodes * gpus):
                raise MoeError(f"LayerConfig: 'topology' {self.topology!r} must place the "
                               f"{self.experts} experts evenly on nodes x GPUs")

    # -- HuggingFace ---------------------------------------------------------

    @classmethod
    def from_hf(cls, config, **overrides):
        """From a DeepSeek config.json (a path or a dict)."""
        where = "config"
        if isinstance(config, (str, os.PathLike)):
            where = str(config)
            try:
                with open(config) as f:
                    config = json.load(f)
            except (OSError, ValueError) as err:
                raise MoeError(f"{where}: cannot read a JSON config: {err}") from None

        def need(key):
            if key not in config:
                raise MoeError(f"{where}: missing '{key}', needed for an MoE layer")
            return config[key]

        method = need("topk_method")
        score = need("scoring_func")
        experts, k = need("n_routed_experts"), need("num_experts_per_tok")
        groups = config.get("n_group", 1) or 1
        group_topk = config.get("topk_group", 1) or 1
        norm = bool(config.get("norm_topk_prob", False))
        factor = float(config.get("routed_scaling_factor", 1.0))
        if method == "noaux_tc":
            if score != "sigmoid":
                raise MoeError(f"{where}: topk_method 'noaux_tc' (DeepSeek-V3) routes "
                               f"sigmoid scores, but scoring_func is '{score}'")
            routing = dict(groups=groups, group_topk=group_topk,
                           group_score=("topk_sum", 2), bias=True,
                           normalize=norm, scale=factor)
        elif method == "group_limited_greedy":
            # V2: normalise without scaling, or scale without normalising.
            normalize = norm and k > 1
            routing = dict(groups=groups, group_topk=group_topk, group_score=("max", 1),
                           bias=False, normalize=normalize,
                           scale=1.0 if normalize else factor)
        elif method in ("greedy", "gready"):
            if groups > 1 and group_topk < groups:
                raise MoeError(f"{where}: topk_method '{method}' ignores groups, but "
                               f"n_group = {groups} with topk_group = {group_topk} "
                               f"asks for a group limit")
            normalize = norm and k > 1
            routing = dict(groups=1, group_topk=1, group_score=("max", 1), bias=False,
                           normalize=normalize, scale=1.0 if normalize else factor)
        else:
            raise MoeError(f"{where}: unknown topk_method '{method}' (known: noaux_tc, "
                           f"group_limited_greedy, greedy)")
        if score not in _SCORES:
            raise MoeError(f"{where}: unknown scoring_func '{score}' (known: sigmoid, softmax)")
        inter = need("moe_intermediate_size")
        args = dict(experts=experts, k=k, hidden=need("hidden_size"), intermediate=inter,
                    score=score, shared_intermediate=(config.get("n_shared_experts") or 0) * inter,
                    aux_loss_alpha=float(config.get("aux_loss_alpha", 0.0) or 0.0),
                    seq_aux=bool(config.get("seq_aux", True)), **routing)
        args.update(overrides)
        try:
            return cls(**args)
        except MoeError as err:
            raise MoeError(f"{where}: {err}") from None

    # -- MLIR ----------------------------------------------------------------

    def _routing_attrs(self):
        text = f"score {self.score} k = {self.k}"
        if self.groups > 1:
            text += f" groups = {self.groups} group_topk = {self.group_topk}"
            kind, n = self.group_score
            text += " group_score = " + ("max" if kind == "max" else f"topk_sum<{n}>")
        if self.normalize:
            text += " normalize"
        if self.scale != 1.0:
            text += f" scale = {self.scale!r}"
        return text

    def loss_attr(self, seq_len=None):
        """The #moe.loss of the config's auxiliary loss (None without one):
        V3-style routing (bias) gets the sequence-wise loss on the plain
        top-k, V2-style the expert-level loss on the selected experts."""
        if not self.aux_loss_alpha:
            return None
        kind = self.loss_kind or ("sequence" if self.bias else "expert")
        text = f"#moe.loss<{kind}, alpha = {self.aux_loss_alpha!r}"
        if kind == "sequence":
            text += ", counts = topk"
        if seq_len and self.seq_aux:
            text += f", seq_len = {seq_len}"
        return text + ">"

    def layer_mlir(self, tokens=None, training=False, seq_len=None, name=None):
        """A module with one func.func computing the layer (and, with
        `training`, its auxiliary loss). `tokens` fixes T (None: dynamic)."""
        T = "?" if tokens is None else str(tokens)
        E, H, I, Is, dt = self.experts, self.hidden, self.intermediate, \
            self.shared_intermediate, self.dtype
        args = [f"%x: tensor<{T}x{H}x{dt}>", f"%router: tensor<{E}x{H}x{dt}>"]
        types = [f"tensor<{T}x{H}x{dt}>", f"tensor<{E}x{H}x{dt}>"]
        operands = "%x router %router"
        if self.bias:
            args.append(f"%bias: tensor<{E}xf32>")
            types.append(f"tensor<{E}xf32>")
            operands += " bias %bias"
        args += [f"%gate_up: tensor<{E}x{2 * I}x{H}x{dt}>", f"%down: tensor<{E}x{H}x{I}x{dt}>"]
        types += [f"tensor<{E}x{2 * I}x{H}x{dt}>", f"tensor<{E}x{H}x{I}x{dt}>"]
        operands += " experts %gate_up, %down"
        if Is:
            args += [f"%shared_gate_up: tensor<1x{2 * Is}x{H}x{dt}>",
                     f"%shared_down: tensor<1x{H}x{Is}x{dt}>"]
            types += [f"tensor<1x{2 * Is}x{H}x{dt}>", f"tensor<1x{H}x{Is}x{dt}>"]
            operands += " shared %shared_gate_up, %shared_down"
        results = [f"tensor<{T}x{H}x{dt}>"]
        attrs = self._routing_attrs()
        if self.topology is not None:
            nodes, gpus, limit = (tuple(self.topology) + (0,))[:3]
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
        fn = name or self.name
        res = ", ".join(f"%r{i}" for i in range(len(results)))
        return (f"func.func @{fn}({', '.join(args)}) -> ({', '.join(results)}) {{\n"
                f"  {res} = moe.layer {operands}\n      {attrs}\n"
                f"      : ({', '.join(types)}) -> ({', '.join(results)})\n"
                f"  return {res} : {', '.join(results)}\n}}\n")

    def routing_mlir(self, tokens=None, name=None):
        """A module with one func.func: logits [T, E] f32 (and the bias) to
        ids and weights."""
        T = "?" if tokens is None else str(tokens)
        E, K = self.experts, self.k
        fn = name or self.name + "_route"
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
        loss = self.loss_attr(seq_len)
        if loss is None:
            raise MoeError("router_training_mlir: the config has no auxiliary loss "
                           "(aux_loss_alpha is 0)")
        body = loss[len("#moe.loss"):]
        T = "?" if tokens is None else str(tokens)
        E, K = self.experts, self.k
        fn = name or self.name + "_router_train"
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
                      f"  %new_bias = moe.bias_update %bias, %counts rate = {rate!r} "
                      f": tensor<{E}xf32>, tensor<{E}xi32>"]
            outs.append("%new_bias")
        lines += [f"  return {', '.join(outs)} : {', '.join(results)}", "}", ""]
        return "\n".join(lines)

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._FIELDS
                           if getattr(self, k) != self._FIELDS[k])
        return f"LayerConfig({fields})"


def _parse_group_score(text):
    text = text.strip()
    if text == "max":
        return ("max", 1)
    if text.startswith("topk_sum<") and text.endswith(">"):
        try:
            return ("topk_sum", int(text[len("topk_sum<"):-1]))
        except ValueError:
            pass
    raise MoeError(f"LayerConfig: 'group_score' must be 'max' or 'topk_sum<n>', got {text!r}")
