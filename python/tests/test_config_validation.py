"""Bad input to the front door (LayerConfig keywords, config.json files, the
command line) raises moe_mlir.MoeError naming the field, or exits with a
one-line error: never a TypeError, a RecursionError, a traceback or IR the
parser rejects (issue 16). Floats reach the IR in a form MLIR reads back
exactly."""

import contextlib
import io
import json
import math
import os
import struct

import pytest

from moe_mlir import MoeError
from moe_mlir.__main__ import main
from moe_mlir.config import FIELDS, HF_KEYS, LayerConfig
from moe_mlir.ir import Module
from moe_mlir.validate import describe, mlir_float

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HF = os.path.join(ROOT, "examples", "hf")
V3 = os.path.join(HF, "deepseek-v3.json")
SMALL = dict(experts=8, k=2, hidden=64, intermediate=64)


def raises(fn, *args, **kwargs):
    """The MoeError fn raises; exactly that class, not a subclass or another
    exception wrapped."""
    with pytest.raises(Exception) as err:
        fn(*args, **kwargs)
    assert type(err.value) is MoeError, repr(err.value)
    return str(err.value)


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


# -- keywords ------------------------------------------------------------------

@pytest.mark.parametrize("field,value,message", [
    ("experts", "abc", "'experts' must be an integer, got 'abc'"),
    ("experts", 8.0, "'experts' must be an integer, got 8.0"),
    ("k", True, "'k' must be an integer, got True"),
    ("hidden", None, "'hidden' must be an integer, got None"),
    ("intermediate", [64], "'intermediate' must be an integer, got [64]"),
    ("groups", {"n": 2}, "'groups' must be an integer, got {'n': 2}"),
    ("group_topk", 0, "'group_topk' must be at least 1, got 0"),
    ("experts", -8, "'experts' must be at least 1, got -8"),
    ("experts", 2**31, "'experts' must be at most 2147483647, got 2147483648"),
    ("hidden", 10**5000, "'hidden' must be at most 2147483647, got an integer of 16610 bits"),
    ("shared_intermediate", -1, "'shared_intermediate' must be at least 0, got -1"),
    ("bias", "false", "'bias' must be true or false, got 'false'"),
    ("normalize", 0, "'normalize' must be true or false, got 0"),
    ("seq_aux", [], "'seq_aux' must be true or false, got []"),
    ("score", 1, "'score' must be a string, got 1"),
    ("score", "relu", "unknown score 'relu' (known: sigmoid, softmax)"),
    ("dtype", "bf32", "unknown dtype 'bf32'"),
    ("loss_kind", "device", "unknown loss_kind 'device' (known: sequence, expert)"),
    ("scale", "2.5", "'scale' must be a number, got '2.5'"),
    ("scale", True, "'scale' must be a number, got True"),
    ("scale", None, "'scale' must be a number, got None"),
    ("scale", math.nan, "'scale' must be finite, got nan"),
    ("scale", math.inf, "'scale' must be finite, got inf"),
    ("scale", 10**400, "'scale' must be finite, got an integer of 1329 bits"),
    ("scale", 0.0, "'scale' must be positive, got 0.0"),
    ("scale", -2.5, "'scale' must be positive, got -2.5"),
    ("scale", 1e39, "'scale' must fit an f32"),
    ("scale", 5e-324, "'scale' must not round to 0 as an f32"),
    ("aux_loss_alpha", -1e-3, "'aux_loss_alpha' must be >= 0, got -0.001"),
    ("aux_loss_alpha", 1e-46, "'aux_loss_alpha' must not round to 0 as an f32"),
    ("aux_loss_alpha", -math.inf, "'aux_loss_alpha' must be finite, got -inf"),
    ("aux_loss_alpha", "0.001", "'aux_loss_alpha' must be a number"),
    ("group_score", "sum", "'group_score' must be 'max' or 'topk_sum<n>', got 'sum'"),
    ("group_score", "topk_sum<-1>", "'group_score' must be 'max' or 'topk_sum<n>'"),
    ("group_score", ("topk_sum",), "'group_score' must be ('max', 1) or ('topk_sum', n)"),
    ("group_score", None, "'group_score' must be ('max', 1) or ('topk_sum', n), got None"),
    ("group_score", {"max": 1}, "'group_score' must be ('max', 1) or ('topk_sum', n)"),
    ("group_score", ("avg", 1), "unknown group_score 'avg'"),
    ("group_score", ("topk_sum", "2"), "'group_score' must be an integer, got '2'"),
    ("group_score", ("topk_sum", 0), "'group_score' must be at least 1, got 0"),
    ("group_score", ("max", 2), "'group_score' ('max', 2): 'max' takes no count"),
    ("topology", "8,8", "'topology' must be (nodes, gpus_per_node[, node_limit]), got '8,8'"),
    ("topology", (8,), "'topology' must be (nodes, gpus_per_node[, node_limit])"),
    ("topology", (2, 2, 1, 1), "'topology' must be (nodes, gpus_per_node[, node_limit])"),
    ("topology", (0, 2), "'topology nodes' must be at least 1, got 0"),
    ("topology", (2, "x"), "'topology gpus_per_node' must be an integer, got 'x'"),
    ("topology", (2, True), "'topology gpus_per_node' must be an integer, got True"),
    ("topology", (2, 2, 3), "'topology node_limit' must be at most 2, got 3"),
    ("name", "a b", "'name' must be an identifier"),
    ("name", "", "'name' must be an identifier"),
    ("name", "1x", "'name' must be an identifier"),
    ("name", 5, "'name' must be an identifier ([A-Za-z_][A-Za-z0-9_]*), got 5"),
], ids=describe)  # str() of 10**5000 fails
def test_keyword_type_and_range(field, value, message):
    assert raises(LayerConfig, **{**SMALL, field: value}).startswith(f"LayerConfig: {message}")


def test_messages_stay_short_for_huge_and_deep_values():
    message = raises(LayerConfig, **{**SMALL, "hidden": nested(100000)})
    assert message.startswith("LayerConfig: 'hidden' must be an integer, got [[[")
    assert len(message) < 200
    message = raises(LayerConfig, **{**SMALL, "name": "-" * 100000})
    assert len(message) < 200


@pytest.mark.parametrize("change,message", [
    (dict(groups=4, group_score=("topk_sum", 3)),
     "'group_score' ('topk_sum', 3) must sum at most the 2 experts of a group"),
    (dict(topology=(3, 1)), "'topology' (3, 1) must place the 8 experts evenly"),
    # The verifier's node-limit rule, which the IR would fail on otherwise.
    (dict(groups=1, topology=(2, 2, 1)),
     "'topology' node_limit (1) is not guaranteed: 'groups' (1) must be a multiple of the 2 "
     "nodes"),
    (dict(groups=4, group_topk=2, topology=(2, 2, 1)),
     "'topology' node_limit (1) is not guaranteed: 'group_topk' (2) must not exceed it"),
])
def test_keyword_contradictions(change, message):
    assert raises(LayerConfig, **{**SMALL, **change}).startswith(f"LayerConfig: {message}")


def test_valid_keywords_are_normalised():
    c = LayerConfig(**SMALL, groups=2, group_score=["topk_sum", 2], topology=[2, 2, 2],
                    scale=2)
    assert c.group_score == ("topk_sum", 2) and c.topology == (2, 2, 2)
    assert type(c.scale) is float and c.scale == 2.0
    Module(c.layer_mlir()).verify()  # "scale = 2" would not parse as an f32
    c = LayerConfig(**SMALL, topology=(2, 2, 0))  # node_limit 0: none
    assert "node_limit" not in c.layer_mlir()


def test_unknown_and_missing_keywords():
    assert raises(LayerConfig, **SMALL, experts_=8) == (
        "LayerConfig: unknown argument(s) experts_; known: " + ", ".join(sorted(FIELDS)))
    assert raises(LayerConfig, experts=8, k=2, hidden=64) == (
        "LayerConfig: 'intermediate' is required")


@pytest.mark.parametrize("method,kwargs,message", [
    ("layer_mlir", dict(tokens=0), "layer_mlir: 'tokens' must be at least 1, got 0"),
    ("layer_mlir", dict(tokens="64"), "layer_mlir: 'tokens' must be an integer, got '64'"),
    ("layer_mlir", dict(name="f g"), "layer_mlir: 'name' must be an identifier"),
    ("routing_mlir", dict(tokens=-1), "routing_mlir: 'tokens' must be at least 1, got -1"),
    ("layer_mlir", dict(training=True, seq_len=0),
     "loss_attr: 'seq_len' must be at least 1, got 0"),
    ("router_training_mlir", dict(rate=math.nan),
     "router_training_mlir: 'rate' must be finite, got nan"),
    ("router_training_mlir", dict(rate=-1e-3),
     "router_training_mlir: 'rate' must be >= 0, got -0.001"),
    ("router_training_mlir", dict(rate=1e-50),
     "router_training_mlir: 'rate' must not round to 0 as an f32"),
])
def test_method_arguments_written_into_the_ir(method, kwargs, message):
    c = LayerConfig(**SMALL, aux_loss_alpha=1e-3)
    assert raises(getattr(c, method), **kwargs).startswith(message)


# -- config.json ---------------------------------------------------------------

def v3(**change):
    cfg = json.load(open(V3))
    cfg.update(change)
    return cfg


@pytest.mark.parametrize("key,value,message", [
    ("n_routed_experts", "abc", "'n_routed_experts' must be an integer, got 'abc'"),
    ("n_routed_experts", None, "'n_routed_experts' must be an integer, got None"),
    ("num_experts_per_tok", True, "'num_experts_per_tok' must be an integer, got True"),
    ("hidden_size", 7168.0, "'hidden_size' must be an integer, got 7168.0"),
    ("moe_intermediate_size", [2048], "'moe_intermediate_size' must be an integer"),
    ("n_group", 0, "'n_group' must be at least 1, got 0"),
    ("topk_group", 0, "'topk_group' must be at least 1, got 0"),
    ("topk_group", "4", "'topk_group' must be an integer, got '4'"),
    ("n_shared_experts", -1, "'n_shared_experts' must be at least 0, got -1"),
    ("norm_topk_prob", "false", "'norm_topk_prob' must be true or false, got 'false'"),
    ("norm_topk_prob", 0, "'norm_topk_prob' must be true or false, got 0"),
    ("norm_topk_prob", None, "'norm_topk_prob' must be true or false, got None"),
    ("seq_aux", "true", "'seq_aux' must be true or false, got 'true'"),
    ("routed_scaling_factor", "2.5", "'routed_scaling_factor' must be a number"),
    ("routed_scaling_factor", None, "'routed_scaling_factor' must be a number, got None"),
    ("routed_scaling_factor", math.nan, "'routed_scaling_factor' must be finite, got nan"),
    ("routed_scaling_factor", 0, "'routed_scaling_factor' must be positive, got 0"),
    ("routed_scaling_factor", 1e300, "'routed_scaling_factor' must fit an f32"),
    ("aux_loss_alpha", None, "'aux_loss_alpha' must be a number, got None"),
    ("aux_loss_alpha", math.inf, "'aux_loss_alpha' must be finite, got inf"),
    ("topk_method", 3, "'topk_method' must be a string, got 3"),
    ("scoring_func", None, "'scoring_func' must be a string, got None"),
    ("scoring_func", ["sigmoid"], "'scoring_func' must be a string, got ['sigmoid']"),
])
def test_hf_values_name_the_key(tmp_path, key, value, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(v3(**{key: value})))
    assert raises(LayerConfig.from_hf, str(path)).startswith(f"{path}: {message}")
    assert raises(LayerConfig.from_hf, v3(**{key: value})).startswith(f"config: {message}")


def test_hf_null_means_absent_only_where_hf_writes_it():
    # DeepseekV2/V3Config default n_group, topk_group and n_shared_experts
    # to None: null is "not set", the same as absent.
    lite = json.load(open(os.path.join(HF, "deepseek-v2-lite.json")))
    c = LayerConfig.from_hf({**lite, "n_group": None, "topk_group": None,
                             "n_shared_experts": None})
    assert (c.groups, c.group_topk, c.shared_intermediate) == (1, 1, 0)
    # An explicit null elsewhere is an error, not the default.
    for key in HF_KEYS:
        if key not in ("n_group", "topk_group", "n_shared_experts"):
            assert f"config: '{key}' must be" in raises(LayerConfig.from_hf, v3(**{key: None}))


def test_hf_keys_of_the_v3_config_all_checked():
    assert set(HF_KEYS) <= set(json.load(open(V3)))


@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "a config must be a JSON object (a dict), got list"),
    ("5", "a config must be a JSON object (a dict), got int"),
    ("null", "a config must be a JSON object (a dict), got NoneType"),
    ('"config"', "a config must be a JSON object (a dict), got str"),
    ('{"topk_method": ', "cannot read a JSON config: Expecting value: line 1 column 17 "
                        "(char 16)"),
    ("{'a': 1}", "cannot read a JSON config: Expecting property name enclosed in double "
                 "quotes: line 1 column 2 (char 1)"),
    ("[" * 100000 + "]" * 100000, "cannot read a JSON config: it nests too deeply"),
    ('{"hidden_size": ' + "9" * 5000 + "}", "cannot read a JSON config: Exceeds the limit"),
])
def test_hf_files(tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    assert raises(LayerConfig.from_hf, path).startswith(f"{path}: {message}")


def test_hf_unreadable(tmp_path):
    missing = tmp_path / "missing.json"
    assert raises(LayerConfig.from_hf, missing) == (
        f"{missing}: cannot read a JSON config: [Errno 2] No such file or directory: "
        f"'{missing}'")
    # A directory is a model's: its config.json is read.
    inside = tmp_path / "config.json"
    assert raises(LayerConfig.from_hf, tmp_path) == (
        f"{inside}: cannot read a JSON config: [Errno 2] No such file or directory: "
        f"'{inside}'")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"a": "\xff\xfe\xc0"}')
    assert raises(LayerConfig.from_hf, binary).startswith(
        f"{binary}: cannot read a JSON config: 'utf-8' codec can't decode byte 0xff")
    assert raises(LayerConfig.from_hf, 5) == "config: a config must be a JSON object " \
                                             "(a dict), got int"
    assert raises(LayerConfig.from_hf, None).endswith("got NoneType")


def test_hf_deep_values_are_errors_not_recursion():
    message = raises(LayerConfig.from_hf, v3(hidden_size=nested(100000)))
    assert message.startswith("config: 'hidden_size' must be an integer, got [[[")


def test_hf_overrides_are_checked():
    assert raises(LayerConfig.from_hf, V3, topology=(8, "8")) == (
        f"{V3}: 'topology gpus_per_node' must be an integer, got '8'")
    assert raises(LayerConfig.from_hf, V3, bogus=1).startswith(
        f"{V3}: unknown argument(s) bogus")


def test_hf_small_scale_compiles():
    c = LayerConfig.from_hf(v3(routed_scaling_factor=1e-05, aux_loss_alpha=1e-05))
    assert c.scale == 1e-05
    text = c.layer_mlir() + c.layer_mlir(training=True, seq_len=4096, name="t") + \
        c.router_training_mlir(rate=1e-05)
    assert "scale = 1.0e-05" in text and "alpha = 1.0e-05" in text and "rate = 1.0e-05" in text
    printed = str(Module(text).verify())  # f32 attributes, printed as such
    assert "scale = 9.99999974E-6" in printed and "rate = 9.99999974E-6" in printed


# -- floats in the IR ----------------------------------------------------------

def f64_of_printed(text):
    """The double an MLIR f64 literal as printed stands for (hex when the
    printer finds no decimal that round-trips)."""
    if text.startswith("0x"):
        return struct.unpack(">d", bytes.fromhex(text[2:]))[0]
    return float(text)


@pytest.mark.parametrize("value", [1e-05, 2.5, 1e300, 5e-324, 0.1, 16.0, 1 / 3, 1e16, 0.0,
                                   1.7976931348623157e308, 2.2250738585072014e-308,
                                   123456789.125, -2.5e-10])
def test_mlir_float_round_trips_through_the_parser(value):
    text = mlir_float(value)
    assert float(text) == value and "." in text.split("e")[0]
    m = Module(f"func.func @f() -> f64 {{\n  %c = arith.constant {text} : f64\n"
               f"  return %c : f64\n}}\n")
    printed = str(m).split("arith.constant ")[1].split(" : f64")[0]
    assert struct.pack("<d", f64_of_printed(printed)) == struct.pack("<d", value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_mlir_float_refuses_non_finite(value):
    assert raises(mlir_float, value).startswith("cannot write")


@pytest.mark.parametrize("scale", [1e-05, 3e38, 1.5e-45, 1 / 3, 7.0])
def test_scale_reaches_the_ir_as_its_f32(scale):
    c = LayerConfig(**SMALL, scale=scale)
    printed = str(Module(c.routing_mlir()).verify())
    text = printed.split("scale = ")[1].split()[0]
    want = struct.unpack("<f", struct.pack("<f", scale))[0]
    got = struct.unpack(">f", bytes.fromhex(text[2:]))[0] if text.startswith("0x") \
        else struct.unpack("<f", struct.pack("<f", float(text)))[0]
    assert got == want


# -- command line ----------------------------------------------------------------

def cli(*argv):
    """main(argv) in-process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["compile", *map(str, argv)])
        except SystemExit as exit:
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def one_line_error(status, stderr, text):
    assert status == 1 and "Traceback" not in stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert text in stderr, stderr


@pytest.mark.parametrize("topology,text", [
    ("8,x,4", "--topology must be NODES,GPUS[,NODE_LIMIT] (unsigned integers of up to 19 "
              "digits), got '8,x,4'"),
    ("", "--topology must be NODES,GPUS[,NODE_LIMIT] (unsigned integers of up to 19 digits), "
         "got ''"),
    ("-1,8,4", "got '-1,8,4'"),
    ("8", "got '8'"),
    ("8,8,4,1", "got '8,8,4,1'"),
    ("8, 8", "got '8, 8'"),
    ("0,8", "'topology nodes' must be at least 1, got 0"),
    ("8,8,9", "'topology node_limit' must be at most 8, got 9"),
    ("3,8", "'topology' (3, 8) must place the 256 experts evenly"),
    ("9999999999999999999,8", "'topology nodes' must be at most 2147483647"),
    ("99999999999999999999,8", "got '99999999999999999999,8'"),
])
def test_cli_malformed_topology(tmp_path, topology, text):
    status, _, err = cli(V3, "-o", tmp_path / "out", f"--topology={topology}")
    one_line_error(status, err, text)
    assert not (tmp_path / "out").exists()


def test_cli_topology_of_two_values(tmp_path):
    status, out, err = cli(V3, "-o", tmp_path, "--topology", "8,8", "--name", "v3")
    assert status == 0, err
    assert "topology <nodes = 8, gpus_per_node = 8, experts_per_gpu = 4>" in \
        (tmp_path / "00-input.mlir").read_text()


def test_cli_bad_inputs(tmp_path):
    binary = tmp_path / "binary.mlir"
    binary.write_bytes(b"func.func @f() {\n\xff\xfe\n}")
    status, _, err = cli(binary, "-o", tmp_path / "out")
    one_line_error(status, err, f"{binary}: not UTF-8 text (byte 0xff at offset 17)")

    missing = tmp_path / "missing.mlir"
    one_line_error(*cli(missing, "-o", tmp_path / "out")[::2],
                   f"No such file or directory: '{missing}'")
    # A directory is a model directory, whatever its name: it needs a
    # config.json.
    for folder in (tmp_path / "folder.mlir", tmp_path / "folder.json"):
        folder.mkdir()
        one_line_error(*cli(folder, "-o", tmp_path / "out")[::2],
                       f"{folder}: no config.json in this directory (a HuggingFace model "
                       f"directory holds one)")
    unreadable = tmp_path / "unreadable"
    (unreadable / "config.json").mkdir(parents=True)
    one_line_error(*cli(unreadable, "-o", tmp_path / "out")[::2],
                   f"{unreadable}: no config.json in this directory")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(v3(n_routed_experts="abc")))
    one_line_error(*cli(bad, "-o", tmp_path / "out")[::2],
                   f"{bad}: 'n_routed_experts' must be an integer, got 'abc'")
    # The output folder is made only once the input compiles.
    assert not (tmp_path / "out").exists()


def test_cli_bad_options(tmp_path):
    for argv, text in [
        (["--name", "a.b"], "compile: '--name' must be an identifier"),
        (["--tokens", "0"], "layer_mlir: 'tokens' must be at least 1, got 0"),
        (["--training", "--seq-len", "0"], "loss_attr: 'seq_len' must be at least 1, got 0"),
    ]:
        one_line_error(*cli(V3, "-o", tmp_path / "out", *argv)[::2], text)
    mlir = os.path.join(ROOT, "examples", "deepseek-v2.mlir")
    one_line_error(*cli(mlir, "-o", tmp_path / "out", "--topology", "")[::2],
                   "apply to a config.json input")
    one_line_error(*cli(mlir, "-o", tmp_path / "out", "--tokens", "0")[::2],
                   "apply to a config.json input")
    status, _, err = cli(V3, "-o", tmp_path / "out", "--tokens", "x")
    assert status == 2 and "argument --tokens: invalid int value: 'x'" in err


def test_cli_output_that_cannot_be_made(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_error(*cli(V3, "-o", afile)[::2], f"File exists: '{afile}'")
    one_line_error(*cli(V3, "-o", afile / "sub")[::2], f"Not a directory: '{afile / 'sub'}'")


def test_cli_file_name_that_is_not_utf8(tmp_path):
    # A file name of undecodable bytes reaches Python as surrogates, which
    # neither the C API nor a UTF-8 stdout can take.
    path = os.path.join(os.fsencode(tmp_path), b"v\xff.mlir")
    with open(path, "wb") as f:
        f.write(b"func.func @f() {\n  moe.bogus\n}\n")
    status, _, err = cli(os.fsdecode(path), "-o", tmp_path / "out")
    assert status == 1 and "Traceback" not in err
    assert "v\\xff.mlir:2:3: error: custom op 'moe.bogus' is unknown" in err
    with open(path, "wb") as f:
        f.write(open(os.path.join(ROOT, "examples", "deepseek-v2.mlir"), "rb").read())
    status, out, err = cli(os.fsdecode(path), "-o", tmp_path / "out", "--name", "v2")
    assert status == 0, err
    assert "input: " in out and "v\\xff.mlir" in out
