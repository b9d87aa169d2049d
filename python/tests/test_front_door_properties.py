"""Properties of the front door (issue 16): whatever a user hands LayerConfig,
LayerConfig.from_hf or `python -m moe_mlir compile`, the only outcomes are
success or moe_mlir.MoeError (for the command line: status 0, 1 or 2 and no
traceback), and a configuration that passes the checks gives IR the
compiler accepts.

Values are arbitrary JSON-like data (None, bools, ints huge and negative,
floats with nan and inf, strings, lists, dicts, nested) mixed with values
near the valid ones, so that the checks between fields and the IR are
reached too. The examples are derandomized and few: the same every run, a
few seconds in all (MOE_PROPERTY_SCALE=N: N times as many, random)."""

import contextlib
import io
import json
import os
import string

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from moe_mlir import MoeError
from moe_mlir.__main__ import main
from moe_mlir.config import FIELDS, HF_KEYS, LayerConfig
from moe_mlir.ir import Module

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


# MOE_PROPERTY_SCALE=N runs N times the examples, with fresh random ones
# (the longer runs recorded in docs/robustness.md); by default the few
# derandomized examples of CI.
SCALE = int(os.environ.get("MOE_PROPERTY_SCALE", "1"))


def bounded(examples):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=SCALE == 1,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- values ----------------------------------------------------------------------

# Strings of characters sampled from CHARS: st.text() would make Hypothesis
# cache Unicode tables in a .hypothesis folder of the working directory.
CHARS = string.printable + "\x00\u00a0\u0663\u00e9\u4e2d\U0001f600"


def texts(chars, size):
    return st.lists(st.sampled_from(chars), max_size=size).map("".join)


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | texts(CHARS, 8)
           | st.sampled_from([2**31 - 1, 2**31, 2**63, -2**63, 10**30]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(texts(CHARS, 4), inner, max_size=3),
                    max_leaves=6)
# Python-only values: an int too long for str(), nesting deeper than the
# recursion limit. Drawn by index: sampled_from would repr() them.
DEEP = [[[]]]
for _ in range(100000):
    DEEP = [DEEP]
_ODD = [10**5000, DEEP, (1, 2), b"8", 1j, object()]


def _odd(i):
    return _ODD[i]


ODD = st.sampled_from(range(len(_ODD))).map(_odd)


ANY = JSON | ODD

FLOATS = st.floats() | st.sampled_from([1e-05, 2.5, 16.0, 1e-45, 3.4e38, 3.5e38, 0.0, 1])
# Values of each keyword near the valid ones (most are valid: the checks
# between fields and the IR are reached).
NEAR = {
    "experts": st.sampled_from([8, 16, 64, 256, 160, 1]),
    "k": st.sampled_from([1, 2, 4, 6, 8, 0]),
    "hidden": st.sampled_from([64, 7168, 1, 256]),
    "intermediate": st.sampled_from([64, 2048, 1, 128]),
    "groups": st.sampled_from([1, 1, 2, 4, 8, 0]),
    "group_topk": st.sampled_from([1, 1, 2, 4, 0, 9]),
    "group_score": st.sampled_from(["max", "topk_sum<2>", ("max", 1), ("topk_sum", 1),
                                    ["topk_sum", 2], ("max", 2), "topk_sum<0>", " max "]),
    "score": st.sampled_from(["sigmoid", "softmax"]),
    "bias": st.booleans(),
    "normalize": st.booleans(),
    "scale": FLOATS,
    "shared_intermediate": st.sampled_from([0, 64, -1, 128]),
    "dtype": st.sampled_from(["bf16", "f16", "f32"]),
    "router_logits": st.sampled_from(["f32", "f32", "bf16", "f16", "f64"]),
    "fp8": st.booleans(),
    "scale_fmt": st.sampled_from([None, None, "ue8m0", "e8m0"]),
    "aux_loss_alpha": FLOATS,
    "seq_aux": st.booleans(),
    "loss_kind": st.sampled_from([None, "sequence", "expert", "device"]),
    "topology": st.none() | st.none() | st.tuples(st.integers(0, 9), st.integers(0, 9))
    | st.lists(st.integers(0, 9), min_size=3, max_size=3),
    "name": st.sampled_from(["moe_layer", "v3", "_x1", "L"]) | texts(CHARS, 4),
}
assert set(NEAR) == set(FIELDS)
REQUIRED = ("experts", "k", "hidden", "intermediate")

HF_NEAR = {
    "topk_method": st.sampled_from(["noaux_tc", "group_limited_greedy", "greedy", "gready",
                                    "magic"]),
    "scoring_func": st.sampled_from(["sigmoid", "softmax", "relu"]),
    "n_routed_experts": NEAR["experts"],
    "num_experts_per_tok": NEAR["k"],
    "hidden_size": NEAR["hidden"],
    "moe_intermediate_size": NEAR["intermediate"],
    "n_group": st.sampled_from([None, 1, 1, 2, 8, 0]),
    "topk_group": st.sampled_from([None, 1, 1, 2, 4, 0, 9]),
    "n_shared_experts": st.sampled_from([None, 0, 1, 2]),
    "norm_topk_prob": st.booleans(),
    "routed_scaling_factor": FLOATS,
    "aux_loss_alpha": FLOATS,
    "seq_aux": st.booleans(),
}
assert set(HF_NEAR) == set(HF_KEYS)
FP8_CONFIG = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
              "weight_block_size": [128, 128]}
QUANT_NEAR = st.sampled_from([None, FP8_CONFIG, dict(FP8_CONFIG, scale_fmt="ue8m0"),
                              dict(FP8_CONFIG, weight_block_size=[1, 128]),
                              dict(FP8_CONFIG, quant_method="gptq"), {}]) | JSON
HF_NEEDED = ("topk_method", "scoring_func", "n_routed_experts", "num_experts_per_tok",
             "hidden_size", "moe_intermediate_size")


@st.composite
def corrupted(draw, near, keys, values):
    """A mapping drawn from `near` with up to two of `keys` removed or set to
    a value drawn from `values`."""
    mapping = draw(near)
    for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
        if draw(st.booleans()):
            mapping[key] = draw(values)
        else:
            mapping.pop(key, None)
    return mapping


KEYWORDS = corrupted(st.fixed_dictionaries(
    {key: NEAR[key] for key in REQUIRED},
    optional={key: NEAR[key] for key in FIELDS if key not in REQUIRED}),
    sorted(FIELDS) + ["bogus"], ANY)


def hf_configs(values):
    """config.json objects: the keys from_hf reads and another, up to two of
    them removed or set to a value drawn from `values`."""
    near = st.fixed_dictionaries(
        {key: HF_NEAR[key] for key in HF_NEEDED},
        optional={**{key: HF_NEAR[key] for key in HF_KEYS if key not in HF_NEEDED},
                  "model_type": JSON, "quantization_config": QUANT_NEAR})
    return corrupted(near, sorted(HF_KEYS), values)


def compiles(cfg):
    """A configuration that passed the checks: its IR verifies, unless a
    tensor may be past the compiler's size limit (2^48 bytes), which the
    Python checks leave to it; 2^40 elements of at most 4 bytes are not."""
    event("valid")  # --hypothesis-show-statistics: how many reach the IR
    text = cfg.layer_mlir() + cfg.routing_mlir()
    if cfg.aux_loss_alpha:
        text += (cfg.layer_mlir(training=True, seq_len=4096, name=cfg.name + "_train")
                 + cfg.router_training_mlir(seq_len=4096))
    largest = cfg.experts * 2 * max(cfg.intermediate, cfg.shared_intermediate) * cfg.hidden
    try:
        Module(text).verify()
    except MoeError:
        if largest <= 2**40:
            raise


@bounded(300)
@given(KEYWORDS)
def test_keywords(kwargs):
    try:
        cfg = LayerConfig(**kwargs)
    except MoeError:
        return
    compiles(cfg)


@bounded(100)
@given(tokens=st.integers(-1, 64) | st.none() | ANY,
       seq_len=st.sampled_from([None, 0, 1, 8, 7]) | ANY,
       rate=FLOATS | ANY, name=NEAR["name"] | st.none() | ANY)
def test_method_arguments(tokens, seq_len, rate, name):
    cfg = LayerConfig(experts=8, k=2, hidden=64, intermediate=64, bias=True,
                      aux_loss_alpha=1e-3)
    for build in (lambda: cfg.layer_mlir(tokens=tokens, name=name),
                  lambda: cfg.routing_mlir(tokens=tokens, name=name),
                  lambda: cfg.layer_mlir(tokens=tokens, training=True, seq_len=seq_len,
                                         name=name),
                  lambda: cfg.router_training_mlir(seq_len=seq_len, rate=rate, tokens=tokens,
                                                   name=name)):
        try:
            Module(build()).verify()
        except MoeError:
            pass  # the checks, or the verifier's (seq_len must divide tokens)


@bounded(300)
@given(hf_configs(ANY))
def test_hf_dicts(config):
    try:
        cfg = LayerConfig.from_hf(config)
    except MoeError:
        return
    compiles(cfg)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("front_door")


@bounded(150)
@given(st.one_of(
    hf_configs(JSON).map(lambda c: json.dumps(c).encode()),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"[" * 100000, b"{" * 100000, b'{"a": ' * 100000,
                     b'{"hidden_size": ' + b"9" * 5000 + b"}", b"\xef\xbb\xbf{}",
                     b"\xff\xfe{\x00}\x00", b"NaN", b""])))
def test_hf_files(workdir, document):
    path = workdir / "config.json"
    path.write_bytes(document)
    try:
        LayerConfig.from_hf(path)
    except MoeError:
        pass


# -- the command line ----------------------------------------------------------------

SMALL_HF = dict(topk_method="noaux_tc", scoring_func="sigmoid", n_routed_experts=64,
                num_experts_per_tok=6, hidden_size=256, moe_intermediate_size=128,
                n_group=8, topk_group=4, n_shared_experts=1, norm_topk_prob=True,
                routed_scaling_factor=1e-05, aux_loss_alpha=1e-3)


@pytest.fixture(scope="module")
def inputs(workdir):
    """Files to compile: (those that compile, all of them)."""
    files = {"small.json": json.dumps(SMALL_HF).encode(),
             "small.mlir": LayerConfig.from_hf(SMALL_HF, name="small").layer_mlir().encode(),
             "bad.json": json.dumps({**SMALL_HF, "n_routed_experts": "abc"}).encode(),
             "list.json": b"[1]", "deep.json": b"[" * 100000,
             "bogus.mlir": b"func.func @f() {\n  moe.bogus\n}\n",
             "binary.mlir": bytes(range(256))}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    for name in ("folder.json", "folder.mlir"):
        (workdir / name).mkdir()
    (workdir / "afile").write_text("")
    good = [str(workdir / "small.json"), str(workdir / "small.mlir"),
            os.path.join(ROOT, "examples", "hf", "deepseek-v2-lite.json")]
    return good, good + [str(workdir / name) for name in [
        *files, "folder.json", "folder.mlir", "missing.json", "missing.mlir"]]


# What argv can hold: no NUL; undecodable bytes arrive as \udc80-\udcff.
# Free text has no "/" so that it names nothing outside the working folder.
ARG = texts(CHARS.replace("\x00", "").replace("/", "") + "\udcff\udc80", 8)
GOOD_OPTION = st.sampled_from([
    ["--training"], ["--routing"], ["--fuse-gather"], ["--topology", "2,4"],
    ["--topology", "8,8,8"], ["--tokens", "64"], ["--seq-len", "64"], ["--name", "v3"],
    ["--target", "sm_80"]])
ANY_OPTION = st.one_of(
    st.sampled_from([["-o"], ["--help"], ["--target", "sm_75"]]),
    st.tuples(st.just("--topology"),
              st.sampled_from(["2,4,1", "8,x,4", "", "-1,8,4", "0,1", "4,4,9", "9" * 30])
              | ARG),
    st.tuples(st.sampled_from(["--tokens", "--seq-len"]),
              st.integers(-5, 5000).map(str) | st.sampled_from(["x", "", "1e3", "9" * 30])
              | ARG),
    st.tuples(st.just("--name"), st.sampled_from(["small", "a.b", "", "x-y"]) | ARG),
    ARG.map(lambda a: [a]))
OPTIONS = st.lists(GOOD_OPTION | GOOD_OPTION | ANY_OPTION, max_size=3).map(
    lambda parts: [a for p in parts for a in p])


@bounded(150)
@given(data=st.data())
def test_cli(workdir, inputs, data):
    good, every = inputs
    source = data.draw(st.sampled_from(good) | st.sampled_from(every) | ARG)
    output = data.draw(st.just(str(workdir / "out")) | st.sampled_from(
        [str(workdir / "afile"), str(workdir / "afile" / "sub"), ""]) | ARG)
    argv = ["compile", source, "-o", output, *data.draw(OPTIONS)]
    argv = data.draw(st.sampled_from([argv] * 6 + [argv[1:], argv[:2] + argv[4:]]))
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir)  # relative output folders land here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exit:  # argparse: usage errors and --help
                status = exit.code
    finally:
        os.chdir(cwd)
    out, err = out.getvalue(), err.getvalue()
    event(f"status {status}")
    assert status in (0, 1, 2), (status, argv)
    assert "Traceback" not in err, argv
    if status == 1:
        assert err.startswith("error: "), (argv, err)
    if status == 0:
        assert "usage:" in out or "\nfiles: " in out, (argv, out)
