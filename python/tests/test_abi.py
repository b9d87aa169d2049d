"""moe_mlir.abi without a GPU, PyTorch or libMoeCAPI.so: the expression
grammar of docs/abi.md (precedence, every function, comparisons, str()
round trips, every error), the launcher manifest (the example of
docs/abi.md, a fuller one, each kind of malformed manifest), the workspace
plan formula, ctypes argument types and binding."""

import copy
import ctypes
import json
import os
import re
import subprocess
import sys

import pytest

from moe_mlir import MoeError
from moe_mlir.abi import (DTYPES, NUMPY_DTYPES, TORCH_DTYPES, Manifest, Target,
                          native_gencode, parse_expr)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


# -- expressions --------------------------------------------------------------

@pytest.mark.parametrize("text, T, value", [
    ("7", 0, 7),
    ("num_tokens", 12, 12),
    ("1 + 2 * 3", 0, 7),                 # * binds tighter than +
    ("2 * 3 + 1", 0, 7),
    ("(1 + 2) * 3", 0, 9),
    ("10 - 2 - 3", 0, 5),                # - is left-associative
    ("10 - (2 - 3)", 0, 11),
    ("num_tokens - 1 + 1", 0, 0),
    ("2 * num_tokens * 3 - num_tokens", 5, 25),
    ("num_tokens * 8 * 14336", 65536, 65536 * 8 * 14336),  # beyond 32 bits
    ("1 + 2 < 2 * 2", 0, 1),             # the comparison binds loosest
    ("1 + 3 < 2 * 2", 0, 0),
    ("(num_tokens > 3) * 100 + 1", 4, 101),
    ("(num_tokens > 3) * 100 + 1", 3, 1),
    ("  num_tokens*8+\t1 ", 2, 17),      # whitespace between tokens is ignored
    ("007", 0, 7),
])
def test_expression_values(text, T, value):
    assert parse_expr(text).eval(T) == value


@pytest.mark.parametrize("text, values", [
    # value at num_tokens = 0, 1, 5, 8
    ("ceildiv(num_tokens, 4)", [0, 1, 2, 2]),
    ("floordiv(num_tokens, 4)", [0, 0, 1, 2]),
    ("ceildiv(num_tokens * 3, 2)", [0, 2, 8, 12]),
    ("floordiv(num_tokens * 3, 2)", [0, 1, 7, 12]),
    ("max(num_tokens)", [0, 1, 5, 8]),
    ("max(num_tokens, 4)", [4, 4, 5, 8]),
    ("max(3, num_tokens, 6)", [6, 6, 6, 8]),
    ("min(num_tokens, 4)", [0, 1, 4, 4]),
    ("min(7)", [7, 7, 7, 7]),
    ("min(num_tokens + 1, 6, 2 * num_tokens)", [0, 2, 6, 6]),
    ("select(num_tokens, 10, 20)", [20, 10, 10, 10]),
    ("select(num_tokens > 4, num_tokens, 4)", [4, 4, 5, 8]),
    ("select(num_tokens - 5, 1, 0)", [1, 1, 0, 1]),  # any non-zero condition
    ("num_tokens < 5", [1, 1, 0, 0]),
    ("num_tokens <= 5", [1, 1, 1, 0]),
    ("num_tokens > 5", [0, 0, 0, 1]),
    ("num_tokens >= 5", [0, 0, 1, 1]),
    ("num_tokens == 5", [0, 0, 1, 0]),
    ("ceildiv(max(num_tokens, 1) * 6, 64) * 64 * 512", [512 * 64, 512 * 64, 512 * 64, 512 * 64]),
])
def test_functions_and_comparisons(text, values):
    e = parse_expr(text)
    assert [e.eval(T) for T in (0, 1, 5, 8)] == values


def test_select_evaluates_only_the_chosen_branch():
    # As C's `c ? a : b`: the other branch may divide by zero.
    e = parse_expr("select(num_tokens > 0, floordiv(64, num_tokens), 0)")
    assert [e.eval(T) for T in (0, 1, 3)] == [0, 64, 21]


def test_divisions_round_down_and_up():
    assert parse_expr("floordiv(7, 2)").eval(0) == 3
    assert parse_expr("ceildiv(7, 2)").eval(0) == 4
    assert parse_expr("ceildiv(8, 2)").eval(0) == 4
    assert parse_expr("ceildiv(0, 3)").eval(0) == 0


@pytest.mark.parametrize("text, canonical", [
    ("num_tokens*8*14336", "num_tokens * 8 * 14336"),
    ("(num_tokens * 8)", "num_tokens * 8"),
    ("1+2*3", "1 + 2 * 3"),
    ("(1+2)*3", "(1 + 2) * 3"),
    ("1-(2-3)", "1 - (2 - 3)"),
    ("1+(2+3)", "1 + (2 + 3)"),          # the tree round-trips, not just the value
    ("(1+2)+3", "(1 + 2) + 3"),
    ("2*(3*4)", "2 * (3 * 4)"),
    ("(num_tokens<=4)*2", "(num_tokens <= 4) * 2"),
    ("(1<2)==1", "(1 < 2) == 1"),
    ("1<(2==1)", "1 < (2 == 1)"),
    ("max( num_tokens ,1 )", "max(num_tokens, 1)"),
    ("select(num_tokens>=2,ceildiv(num_tokens,2),floordiv(num_tokens+1,2))",
     "select(num_tokens >= 2, ceildiv(num_tokens, 2), floordiv(num_tokens + 1, 2))"),
    ("min((1),((num_tokens)))", "min(1, num_tokens)"),
    ("(max(1, 2) - 3) * (4 - 1) + ceildiv(num_tokens * 2, 3) - 1",
     "(max(1, 2) - 3) * (4 - 1) + ceildiv(num_tokens * 2, 3) - 1"),
])
def test_str_round_trips(text, canonical):
    e = parse_expr(text)
    assert str(e) == canonical
    again = parse_expr(str(e))
    assert again == e and hash(again) == hash(e)
    assert str(again) == canonical
    for T in (0, 1, 7, 100):
        assert again.eval(T) == e.eval(T)


def test_equality_is_structural():
    assert parse_expr("num_tokens * 8") == parse_expr(" num_tokens*8 ")
    assert parse_expr("num_tokens * 8") != parse_expr("8 * num_tokens")
    assert parse_expr("1 + (2 + 3)") != parse_expr("1 + 2 + 3")
    assert parse_expr("num_tokens").is_num_tokens
    assert not parse_expr("(num_tokens) * 1").is_num_tokens
    assert parse_expr("max(1, num_tokens)").uses_num_tokens
    assert not parse_expr("max(1, 2)").uses_num_tokens


@pytest.mark.parametrize("text, column, message", [
    ("", 1, "expected an integer, 'num_tokens', '\\(' or a function, got the end"),
    ("   ", 4, "got the end"),
    ("num_tokens +", 13, "expected an integer, 'num_tokens', '\\(' or a function, got the end"),
    ("num_tokens * * 2", 14, "got '\\*'"),
    ("-1", 1, "got '-'"),                             # no unary minus
    ("1 / 2", 3, "unexpected character '/'"),
    ("num_tokens % 2", 12, "unexpected character '%'"),
    ("1 = 1", 3, "unexpected character '='"),
    ("1 != 2", 3, "unexpected character '!'"),
    ("1.5", 2, "unexpected character '.'"),
    ("1 2", 3, "unexpected '2'"),
    ("num_tokens num_tokens", 12, "unexpected 'num_tokens'"),
    ("(1 + 2", 7, "expected '\\)' after the '\\(' at column 1, got the end"),
    ("1 + 2)", 6, "unexpected '\\)'"),
    ("()", 2, "got '\\)'"),
    ("1 < 2 < 3", 7, "unexpected '<' \\(comparisons do not chain"),
    ("1 == 2 == 3", 8, "comparisons do not chain"),
    ("tokens", 1, "unknown identifier 'tokens'"),
    ("num_tokens * T", 14, "unknown identifier 'T'"),
    ("pow(2, 3)", 1, "unknown identifier 'pow'"),
    ("Max(1, 2)", 1, "unknown identifier 'Max'"),
    ("max", 4, "expected '\\(' after 'max', got the end"),
    ("max 1", 5, "expected '\\(' after 'max', got '1'"),
    ("num_tokens(1)", 11, "unexpected '\\('"),
    ("max(1, 2", 9, "expected '\\)' after the arguments of 'max', got the end"),
    ("max(1 2)", 7, "expected '\\)' after the arguments of 'max', got '2'"),
    ("max(1,)", 7, "got '\\)'"),
    ("max()", 1, "max takes at least 1 argument, got 0"),
    ("min()", 1, "min takes at least 1 argument, got 0"),
    ("1 + ceildiv(1)", 5, "ceildiv takes 2 arguments, got 1"),
    ("ceildiv(1, 2, 3)", 1, "ceildiv takes 2 arguments, got 3"),
    ("floordiv(num_tokens)", 1, "floordiv takes 2 arguments, got 1"),
    ("floordiv()", 1, "floordiv takes 2 arguments, got 0"),
    ("select(1, 2)", 1, "select takes 3 arguments, got 2"),
    ("select(1, 2, 3, 4)", 1, "select takes 3 arguments, got 4"),
    ("(" * 101 + "1" + ")" * 101, 101, "nested more than 100 deep"),
])
def test_syntax_errors(text, column, message):
    with pytest.raises(MoeError) as err:
        parse_expr(text)
    text_in_message = f"expression '{text}' at column {column}: "
    assert str(err.value).startswith(text_in_message), str(err.value)
    assert re.search(message, str(err.value)), str(err.value)


def test_deep_nesting_below_the_limit_parses():
    assert parse_expr("(" * 100 + "num_tokens" + ")" * 100).eval(3) == 3
    assert parse_expr(" + ".join(["1"] * 5000)).eval(0) == 5000  # long sums are flat


@pytest.mark.parametrize("text, T, message", [
    ("floordiv(num_tokens, 0)", 3,
     "expression 'floordiv\\(num_tokens, 0\\)' at column 1: floordiv by zero \\(num_tokens = 3\\)"),
    ("1 + ceildiv(8, num_tokens - 2)", 2,
     "expression '1 \\+ ceildiv\\(8, num_tokens - 2\\)' at column 5: ceildiv by zero "
     "\\(num_tokens = 2\\)"),
    ("max(1, floordiv(1, num_tokens))", 0, "at column 8: floordiv by zero"),
])
def test_division_by_zero(text, T, message):
    e = parse_expr(text)
    with pytest.raises(MoeError, match=message):
        e.eval(T)


def test_token_count_errors():
    e = parse_expr("num_tokens * 2")
    with pytest.raises(MoeError, match=r"expression 'num_tokens \* 2': num_tokens must be >= 0, "
                                       r"got -1"):
        e.eval(-1)
    for bad in (2.0, "3", None, True):
        with pytest.raises(MoeError, match="num_tokens must be an integer"):
            e.eval(bad)
    with pytest.raises(MoeError, match="an expression must be a string, got int"):
        parse_expr(5)


def test_numpy_integers_are_token_counts():
    np = pytest.importorskip("numpy")
    assert parse_expr("num_tokens * 2").eval(np.int64(21)) == 42


# -- the manifest --------------------------------------------------------------

def docs_example():
    """The JSON example of docs/abi.md, as the document has it."""
    with open(os.path.join(ROOT, "docs", "abi.md")) as f:
        text = f.read()
    return re.search(r"```json\n(.*?)```", text, re.S).group(1)


def good():
    """A fuller manifest than the docs' example: two launchers with
    workspaces, a static one without, every role, expressions in shapes."""
    return {
        "format": "moe-mlir-launchers",
        "version": 1,
        "target": {"name": "sm_90a", "capability": [9, 0], "arch_specific": True},
        "launchers": [
            {
                "name": "permute",
                "static_tokens": None,
                "params": [
                    {"name": "input", "role": "input", "dtype": "bf16",
                     "ctype": "const __nv_bfloat16*", "shape": ["num_tokens", 7168], "align": 16},
                    {"name": "ids", "role": "input", "dtype": "i32",
                     "ctype": "const int32_t*", "shape": ["num_tokens", 8], "align": 4},
                    {"name": "weights", "role": "input", "dtype": "f32",
                     "ctype": "const float *", "shape": ["num_tokens", 8], "align": 4},
                    {"name": "rows", "role": "output", "dtype": "bf16",
                     "ctype": "__nv_bfloat16*", "shape": ["num_tokens * 8", 7168], "align": 16},
                    {"name": "offsets", "role": "output", "dtype": "i32",
                     "ctype": "int32_t*", "shape": [257], "align": 4},
                    {"name": "keep", "role": "output", "dtype": "i1",
                     "ctype": "bool*", "shape": ["ceildiv(num_tokens, 64)", "64"], "align": 1},
                    {"name": "workspace", "role": "workspace", "ctype": "void*", "align": 256},
                    {"name": "num_tokens", "role": "num_tokens", "ctype": "int64_t"},
                    {"name": "stream", "role": "stream", "ctype": "cudaStream_t"},
                ],
                "workspace": {
                    "function": "permute_workspace_size",
                    "alignment": 256,
                    "buffers": [
                        {"name": "permute.order", "bytes": "ceildiv(num_tokens * 32, 256) * 256",
                         "after": []},
                        {"name": "permute.counts", "bytes": 1280, "after": [0]},
                    ],
                },
            },
            {
                "name": "bias_update",
                "static_tokens": 64,
                "params": [
                    {"name": "counts", "role": "input", "dtype": "i64",
                     "ctype": "const int64_t*", "shape": [256], "align": 8},
                    {"name": "logits", "role": "input", "dtype": "f16",
                     "ctype": "const __half*", "shape": ["num_tokens", 256], "align": 2},
                    {"name": "new_bias", "role": "output", "dtype": "f64",
                     "ctype": "double*", "shape": [], "align": 8},
                    {"name": "num_tokens", "role": "num_tokens", "ctype": "int64_t"},
                    {"name": "stream", "role": "stream", "ctype": "cudaStream_t"},
                ],
            },
        ],
    }


def test_the_docs_example_loads():
    m = Manifest.loads(docs_example())
    assert m.target == Target("sm_90a", (9, 0), True)
    assert (m.target.name, m.target.capability, m.target.arch_specific) == ("sm_90a", (9, 0), True)
    spec = m["v3_layer"]
    assert [p.name for p in spec.params] == ["input", "output", "workspace", "num_tokens", "stream"]
    assert [p.role for p in spec.params] == ["input", "output", "workspace", "num_tokens", "stream"]
    assert [p.name for p in spec.inputs] == ["input"]
    assert [p.name for p in spec.outputs] == ["output"]
    assert spec.static_tokens is None
    assert spec.shape("input", 4096) == [4096, 7168]
    assert spec.tokens_input is spec.inputs[0]
    ws = spec.workspace
    assert (ws.function, ws.alignment) == ("v3_layer_workspace_size", 256)
    assert [b.name for b in ws.buffers] == ["k3.permute.rows", "k6.grouped_gemm.out",
                                            "k5.grouped_gemm.out"]
    # The permute's rows and the down GEMM's output never live at the same
    # time: both at 0; the gate/up output overlaps both and goes above them.
    T = 4096
    assert ws.offsets(T) == [0, 0, T * 8 * 14336]
    assert spec.workspace_bytes(T) == T * 8 * (14336 + 4096)
    assert spec.workspace_bytes(0) == 0
    assert spec.argtypes() == [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_int64, ctypes.c_void_p]


def test_a_good_manifest():
    m = Manifest.loads(json.dumps(good()), source="good.json")
    assert list(m.launchers) == ["permute", "bias_update"]
    assert [s.name for s in m] == ["permute", "bias_update"] and len(m) == 2
    assert "permute" in m and "layer" not in m
    p = m["permute"]
    assert [x.name for x in p.inputs] == ["input", "ids", "weights"]
    assert [x.name for x in p.outputs] == ["rows", "offsets", "keep"]
    assert [x.dtype for x in p.inputs + p.outputs] == ["bf16", "i32", "f32", "bf16", "i32", "i1"]
    assert [x.align for x in p.params] == [16, 4, 4, 16, 4, 1, 256, None, None]
    assert p.param("weights").ctype == "const float *"
    rows = p.param("rows")
    assert rows.shape == [parse_expr("num_tokens * 8"), 7168]
    assert isinstance(rows.shape[1], int)
    assert p.param("num_tokens").shape is None and p.param("num_tokens").dtype is None
    assert p.shape(rows, 5) == [40, 7168]
    assert p.shape("offsets", 5) == [257]
    assert p.shape("keep", 65) == [2, 64] and p.shape("keep", 0) == [0, 64]
    assert p.argtypes() == [ctypes.c_void_p] * 7 + [ctypes.c_int64, ctypes.c_void_p]
    assert p.workspace_bytes(100) == 3328 + 1280  # ceil(3200 / 256) * 256, then the counts
    b = m["bias_update"]
    assert b.static_tokens == 64 and b.workspace is None and b.workspace_bytes(64) == 0
    assert b.tokens_input is b.param("logits")  # the first input with num_tokens rows
    assert b.shape("new_bias", 64) == []
    assert b.argtypes() == [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_void_p]
    with pytest.raises(MoeError, match=r"no launcher 'layer' in good.json "
                                       r"\(have: permute, bias_update\)"):
        m["layer"]
    with pytest.raises(MoeError, match="launcher 'permute' has no parameter 'x' "
                                       r"\(have: input, ids, .*, stream\)"):
        p.param("x")
    with pytest.raises(MoeError, match="launcher 'permute', param 'stream': a stream parameter "
                                       "has no shape"):
        p.shape("stream", 1)
    with pytest.raises(MoeError, match="num_tokens must be >= 0"):
        p.shape("rows", -1)


def test_unknown_keys_are_ignored():
    # Version 1 may grow optional keys; a reader of version 1 skips them.
    g = good()
    g["generator"] = "moe-translate"
    g["launchers"][0]["params"][0]["doc"] = "the tokens"
    g["launchers"][1]["workspace"] = None  # as absent
    m = Manifest.loads(json.dumps(g))
    assert m["permute"].param("input").shape == [parse_expr("num_tokens"), 7168]
    assert m["bias_update"].workspace is None


def test_bytes_and_files(tmp_path):
    text = json.dumps(good())
    assert list(Manifest.loads(text.encode()).launchers) == ["permute", "bias_update"]
    path = tmp_path / "permute.json"
    path.write_text(text)
    assert Manifest.load(str(path)).source == str(path)
    with pytest.raises(MoeError, match=f"cannot read the manifest {tmp_path}/none.json: "
                                       "No such file"):
        Manifest.load(str(tmp_path / "none.json"))


def test_negative_dimensions_are_errors():
    g = good()
    g["launchers"][0]["params"][4]["shape"] = ["num_tokens - 8"]
    spec = Manifest.loads(json.dumps(g))["permute"]
    assert spec.shape("offsets", 8) == [0]
    with pytest.raises(MoeError, match="launcher 'permute', param 'offsets': dimension "
                                       "'num_tokens - 8' is -7 for num_tokens = 1"):
        spec.shape("offsets", 1)


def test_shape_errors_name_the_launcher_and_param():
    g = good()
    g["launchers"][0]["params"][3]["shape"] = ["floordiv(8, num_tokens)", 7168]
    spec = Manifest.loads(json.dumps(g))["permute"]
    with pytest.raises(MoeError, match=r"launcher 'permute', param 'rows': expression "
                                       r"'floordiv\(8, num_tokens\)' at column 1: floordiv "
                                       r"by zero \(num_tokens = 0\)"):
        spec.shape("rows", 0)


def _set(path, value):
    """A mutation of good(): the entry at `path` (keys and indices) set to
    `value`, or deleted when value is DELETE."""
    def mutate(m):
        obj = m
        for key in path[:-1]:
            obj = obj[key]
        if value is DELETE:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
        return m
    return mutate


DELETE = object()
L0 = ("launchers", 0)
P = L0 + ("params",)
W = L0 + ("workspace",)


def _swap_params(m):
    ps = m["launchers"][0]["params"]
    ps[2], ps[3] = ps[3], ps[2]
    return m


def _two_workspaces(m):
    ps = m["launchers"][0]["params"]
    ps.insert(6, dict(ps[6], name="workspace2"))
    return m


def _duplicate_launcher(m):
    m["launchers"].append(copy.deepcopy(m["launchers"][0]))
    return m


def _size_function_named_as_launcher(m):
    m["launchers"][0]["workspace"]["function"] = "bias_update"
    m["launchers"].reverse()
    return m


MALFORMED = [
    # (id, mutation, the message, as a regex)
    ("top level", lambda m: [m], r"^manifest: expected an object, got a list"),
    ("format missing", _set(("format",), DELETE), r"^manifest: missing 'format'"),
    ("format", _set(("format",), "moe-launchers"),
     r"'format' is 'moe-launchers', expected 'moe-mlir-launchers'"),
    ("version", _set(("version",), 2), r"manifest version 2; this moe_mlir reads version 1"),
    ("version string", _set(("version",), "1"), r"'version' must be an integer, got a string"),
    ("version bool", _set(("version",), True), r"'version' must be an integer, got a boolean"),
    ("target missing", _set(("target",), DELETE), r"missing 'target'"),
    ("target type", _set(("target",), "sm_90a"), r"'target' must be an object, got a string"),
    ("target name", _set(("target", "name"), "hopper"),
     r"manifest: target: 'name' must be an sm_<major><minor>\[a\] target, got 'hopper'"),
    ("capability length", _set(("target", "capability"), [9]),
     r"target: 'capability' must be \[major, minor\], got \[9\]"),
    ("capability type", _set(("target", "capability"), [9, "0"]),
     r"'capability' must be \[major, minor\]"),
    ("capability mismatch", _set(("target", "capability"), [8, 0]),
     r"target: 'sm_90a' does not have capability \[8, 0\]"),
    ("arch_specific mismatch", _set(("target", "arch_specific"), False),
     r"target: 'sm_90a' is arch-specific, 'arch_specific' says false"),
    ("arch_specific type", _set(("target", "arch_specific"), 1),
     r"'arch_specific' must be a boolean, got an integer"),
    ("launchers type", _set(("launchers",), {}), r"'launchers' must be a list, got an object"),
    ("launcher type", _set(L0, "permute"), r"launchers\[0\]: expected an object, got a string"),
    ("launcher name", _set(L0 + ("name",), DELETE), r"launchers\[0\]: missing 'name'"),
    ("launcher name C", _set(L0 + ("name",), "v3-layer"),
     r"launchers\[0\]: 'name' must be a C identifier, got 'v3-layer'"),
    ("two launchers", _duplicate_launcher, r"two launchers named 'permute'"),
    ("size function clash", _size_function_named_as_launcher,
     r"launcher 'permute': its size function 'bias_update' is also a launcher's name"),
    ("static_tokens missing", _set(L0 + ("static_tokens",), DELETE),
     r"launcher 'permute': missing 'static_tokens'"),
    ("static_tokens negative", _set(L0 + ("static_tokens",), -1),
     r"launcher 'permute': 'static_tokens' must be null or an integer >= 0, got -1"),
    ("static_tokens string", _set(L0 + ("static_tokens",), "64"),
     r"'static_tokens' must be null or an integer >= 0, got '64'"),
    ("params missing", _set(L0 + ("params",), DELETE), r"launcher 'permute': missing 'params'"),
    ("param name", _set(P + (1, "name"), DELETE),
     r"launcher 'permute', params\[1\]: missing 'name'"),
    ("role", _set(P + (1, "role"), "scratch"),
     r"launcher 'permute', params\[1\] \('ids'\): unknown role 'scratch' \(expected one of "
     r"input, output, workspace, num_tokens, stream\)"),
    ("role missing", _set(P + (1, "role"), DELETE), r"params\[1\] \('ids'\): missing 'role'"),
    ("dtype", _set(P + (1, "dtype"), "u8"),
     r"params\[1\] \('ids'\): unknown dtype 'u8' \(expected one of bf16, f16, f32, f64, f8E4M3FN, i1, "
     r"i32, i64\)"),
    ("dtype missing", _set(P + (3, "dtype"), DELETE), r"params\[3\] \('rows'\): missing 'dtype'"),
    ("ctype missing", _set(P + (3, "ctype"), DELETE), r"params\[3\] \('rows'\): missing 'ctype'"),
    ("ctype const output", _set(P + (3, "ctype"), "const __nv_bfloat16*"),
     r"\('rows'\): ctype 'const __nv_bfloat16\*' does not match an output of dtype bf16 "
     r"\(expected '__nv_bfloat16\*'\)"),
    ("ctype input not const", _set(P + (1, "ctype"), "int32_t*"),
     r"\('ids'\): ctype 'int32_t\*' does not match an input of dtype i32"),
    ("ctype of another dtype", _set(P + (2, "ctype"), "const double*"),
     r"\('weights'\): ctype 'const double\*' does not match an input of dtype f32 "
     r"\(expected 'const float\*'\)"),
    ("ctype workspace", _set(P + (6, "ctype"), "char*"),
     r"\('workspace'\): ctype 'char\*' does not match the workspace"),
    ("ctype num_tokens", _set(P + (7, "ctype"), "int"),
     r"\('num_tokens'\): ctype 'int' does not match the num_tokens parameter "
     r"\(expected 'int64_t'\)"),
    ("shape missing", _set(P + (0, "shape"), DELETE), r"\('input'\): missing 'shape'"),
    ("shape type", _set(P + (0, "shape"), "num_tokens, 7168"),
     r"\('input'\): 'shape' must be a list, got a string"),
    ("shape float", _set(P + (0, "shape"), ["num_tokens", 7168.0]),
     r"params\[0\] \('input'\), shape\[1\]: must be an integer or an expression string, "
     r"got a number"),
    ("shape negative", _set(P + (4, "shape"), [-1]),
     r"params\[4\] \('offsets'\), shape\[0\]: must be >= 0, got -1"),
    ("shape bool", _set(P + (4, "shape"), [True]), r"shape\[0\]: must be an integer or an "
                                                   r"expression string, got a boolean"),
    ("shape expression", _set(P + (3, "shape"), ["num_tokens * 8 +", 7168]),
     r"launcher 'permute', params\[3\] \('rows'\), shape\[0\]: expression 'num_tokens \* 8 \+' "
     r"at column 17: expected an integer"),
    ("shape identifier", _set(P + (3, "shape"), ["T * 8", 7168]),
     r"\('rows'\), shape\[0\]: expression 'T \* 8' at column 1: unknown identifier 'T'"),
    ("align missing", _set(P + (0, "align"), DELETE), r"\('input'\): missing 'align'"),
    ("align power of two", _set(P + (0, "align"), 12),
     r"\('input'\): 'align' must be a positive power of two, got 12"),
    ("align zero", _set(P + (6, "align"), 0),
     r"\('workspace'\): 'align' must be a positive power of two, got 0"),
    ("param names", _set(P + (1, "name"), "input"), r"launcher 'permute': two parameters named "
                                                    r"'input'"),
    ("no num_tokens", lambda m: _set(P, [p for p in m["launchers"][0]["params"]
                                         if p["role"] != "num_tokens"])(m),
     r"launcher 'permute': no num_tokens parameter"),
    ("no stream", lambda m: _set(P, m["launchers"][0]["params"][:-1])(m),
     r"launcher 'permute': no stream parameter"),
    ("two workspaces", _two_workspaces, r"launcher 'permute': more than one workspace parameter"),
    ("order", _swap_params,
     r"launcher 'permute': parameters out of order \(input, input, output, input, output, "
     r"output, workspace, num_tokens, stream\): expected inputs, outputs, \[workspace\], "
     r"num_tokens, stream"),
    ("plan without parameter", lambda m: _set(P, [p for p in m["launchers"][0]["params"]
                                                  if p["role"] != "workspace"])(m),
     r"launcher 'permute': has a 'workspace' plan but no workspace parameter"),
    ("parameter without plan", _set(W, DELETE),
     r"launcher 'permute': has a workspace parameter but no 'workspace' plan"),
    ("null plan with parameter", _set(W, None),
     r"launcher 'permute': has a workspace parameter but no 'workspace' plan"),
    ("plan type", _set(W, [1]), r"launcher 'permute': 'workspace' must be an object, got a list"),
    ("function", _set(W + ("function",), "permute workspace"),
     r"launcher 'permute', workspace: 'function' must be a C identifier"),
    ("function missing", _set(W + ("function",), DELETE),
     r"launcher 'permute', workspace: missing 'function'"),
    ("alignment", _set(W + ("alignment",), 100),
     r"workspace: 'alignment' must be a positive power of two, got 100"),
    ("buffers", _set(W + ("buffers",), None), r"workspace: 'buffers' must be a list, got null"),
    ("buffer bytes missing", _set(W + ("buffers", 1, "bytes"), DELETE),
     r"workspace, buffers\[1\]: missing 'bytes'"),
    ("buffer bytes alignment", _set(W + ("buffers", 1, "bytes"), 1000),
     r"workspace, buffers\[1\]: 1000 bytes is not a multiple of the alignment 256"),
    ("buffer bytes expression", _set(W + ("buffers", 0, "bytes"), "num_tokens ** 2"),
     r"workspace, buffers\[0\] \('permute.order'\), bytes: expression 'num_tokens \*\* 2' at "
     r"column 13: expected an integer"),
    ("buffer name", _set(W + ("buffers", 0, "name"), 3),
     r"workspace, buffers\[0\]: 'name' must be a string, got an integer"),
    ("after missing", _set(W + ("buffers", 1, "after"), DELETE),
     r"workspace, buffers\[1\]: missing 'after'"),
    ("after forward", _set(W + ("buffers", 1, "after"), [1]),
     r"buffers\[1\]: 'after' holds 1: entries must be indices of earlier buffers \(0 to 0\)"),
    ("after first", _set(W + ("buffers", 0, "after"), [0]),
     r"buffers\[0\]: 'after' holds 0: entries must be indices of earlier buffers"),
    ("after negative", _set(W + ("buffers", 1, "after"), [-1]), r"'after' holds -1"),
    ("after type", _set(W + ("buffers", 1, "after"), ["0"]), r"'after' holds '0'"),
    ("after repeated", _set(W + ("buffers", 1, "after"), [0, 0]),
     r"buffers\[1\]: 'after' repeats an index: \[0, 0\]"),
]


@pytest.mark.parametrize("mutate, message", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_manifests(mutate, message):
    text = json.dumps(mutate(good()))
    with pytest.raises(MoeError) as err:
        Manifest.loads(text)
    assert re.search(message, str(err.value)), str(err.value)


def test_malformed_text():
    with pytest.raises(MoeError, match=r"^x.json: not valid JSON: Expecting value: line 1 "
                                       r"column 1"):
        Manifest.loads("", source="x.json")
    with pytest.raises(MoeError, match=r"not valid JSON: .*\(this looks like C: the manifest is "
                                       r"the .json of moe-translate --mlir-to-cuda-manifest\)"):
        Manifest.loads("// v3_layer: ...\ncudaError_t v3_layer(...);")
    with pytest.raises(MoeError, match=r"manifest: key 'version' appears twice in one object"):
        Manifest.loads('{"format": "moe-mlir-launchers", "version": 1, "version": 1}')
    with pytest.raises(MoeError, match="expected the JSON text, got dict"):
        Manifest.loads(good())


# -- the workspace plan --------------------------------------------------------

def plan_manifest(buffers, alignment=256):
    m = good()
    m["launchers"][0]["workspace"] = {"function": "permute_workspace_size",
                                      "alignment": alignment, "buffers": buffers}
    return Manifest.loads(json.dumps(m))["permute"]


def test_workspace_plan_shares_memory_between_buffers_that_do_not_overlap():
    # `ids` lives through the whole launch; `gemm` and `combine` overlap it
    # but not each other, so they share the memory after it; `out` overlaps
    # both of them and goes after the larger.
    spec = plan_manifest([
        {"name": "route.ids", "bytes": 512, "after": []},
        {"name": "gemm.out", "bytes": "num_tokens * 1024", "after": [0]},
        {"name": "combine.acc", "bytes": "max(num_tokens * 256, 4096)", "after": [0]},
        {"name": "combine.out", "bytes": 256, "after": [1, 2]},
    ])
    ws = spec.workspace
    # T = 1: combine.acc (4096 bytes) is the larger of the two.
    assert ws.offsets(1) == [0, 512, 512, 512 + 4096]
    assert ws.bytes(1) == 512 + 4096 + 256 == spec.workspace_bytes(1)
    # T = 100: gemm.out (102400 bytes) is.
    assert ws.offsets(100) == [0, 512, 512, 512 + 102400]
    assert ws.bytes(100) == 512 + 102400 + 256
    # T = 0: gemm.out is empty; the max over after[] still sees combine.acc.
    assert ws.offsets(0) == [0, 512, 512, 512 + 4096]
    assert ws.bytes(0) == 4864


def test_workspace_plan_without_overlaps_and_empty():
    spec = plan_manifest([
        {"name": "a", "bytes": "num_tokens * 256", "after": []},
        {"name": "b", "bytes": 1024, "after": []},
    ])
    assert spec.workspace.offsets(3) == [0, 0]
    assert spec.workspace_bytes(3) == 1024 and spec.workspace_bytes(8) == 2048
    empty = plan_manifest([])
    assert empty.workspace.offsets(5) == [] and empty.workspace_bytes(5) == 0


def test_workspace_plan_errors():
    spec = plan_manifest([
        {"name": "a", "bytes": "num_tokens * 100", "after": []},
        {"name": "b", "bytes": "floordiv(1024, num_tokens)", "after": [0]},
    ], alignment=8)
    assert spec.workspace_bytes(4) == 400 + 256
    with pytest.raises(MoeError, match=r"launcher 'permute', workspace, buffer 0 \('a'\): 300 "
                                       r"bytes for num_tokens = 3; must be >= 0 and a multiple "
                                       r"of 8"):
        spec.workspace_bytes(3)
    with pytest.raises(MoeError, match=r"workspace, buffer 1 \('b'\): expression "
                                       r"'floordiv\(1024, num_tokens\)' at column 1: floordiv by "
                                       r"zero \(num_tokens = 0\)"):
        spec.workspace.offsets(0)
    with pytest.raises(MoeError, match="num_tokens must be >= 0, got -2"):
        spec.workspace_bytes(-2)


# -- ctypes --------------------------------------------------------------------

def libc_manifest():
    """Launchers named after libc functions, so that binding has symbols to
    find without a GPU: `labs` stands for a workspace size function."""
    m = good()
    m["launchers"][0]["name"] = "strlen"
    m["launchers"][0]["workspace"]["function"] = "labs"
    m["launchers"][1]["name"] = "missing_launcher_xyz"
    return Manifest.loads(json.dumps(m))


def test_bind():
    libc = ctypes.CDLL(None)
    m = libc_manifest()
    spec = m["strlen"]
    fn = spec.bind(libc)
    assert fn.argtypes == spec.argtypes() and fn.restype is ctypes.c_int
    assert fn is not spec.bind(libc)  # each binding its own function object
    size = spec.bind_workspace_size(libc)
    assert size.argtypes == [ctypes.c_int64] and size.restype is ctypes.c_size_t
    assert size(4096) == 4096  # labs, through the binding's types
    assert m["missing_launcher_xyz"].bind_workspace_size(libc) is None  # no workspace
    with pytest.raises(MoeError, match="launcher 'missing_launcher_xyz': the library .* has no "
                                       "function 'missing_launcher_xyz'"):
        m["missing_launcher_xyz"].bind(libc)


def test_dtype_tables():
    assert list(DTYPES) == ["bf16", "f16", "f32", "f64", "f8E4M3FN", "i1", "i32", "i64"]
    assert TORCH_DTYPES == {"bf16": "bfloat16", "f16": "float16", "f32": "float32",
                            "f64": "float64", "f8E4M3FN": "float8_e4m3fn", "i1": "bool",
                            "i32": "int32", "i64": "int64"}
    assert NUMPY_DTYPES["bf16"] == "uint16"  # NumPy has no bfloat16: its bits
    assert NUMPY_DTYPES["f8E4M3FN"] == "uint8"  # nor float8
    assert DTYPES["f8E4M3FN"]["ctype"] == "uint8_t"
    np = pytest.importorskip("numpy")
    for name, d in DTYPES.items():
        assert np.dtype(NUMPY_DTYPES[name]).itemsize == d["bytes"], name


# -- targets -------------------------------------------------------------------

def test_target_gencode():
    sm90a = Target("sm_90a", (9, 0), True)
    assert sm90a.gencode((9, 0)) == "arch=compute_90a,code=sm_90a"
    with pytest.raises(MoeError, match="^compiled for sm_90a; this GPU is sm_80$"):
        sm90a.gencode((8, 0))
    with pytest.raises(MoeError, match="^compiled for sm_90a; this GPU is sm_100$"):
        sm90a.gencode((10, 0))
    sm80 = Target("sm_80", (8, 0), False)
    assert sm80.gencode((8, 0)) == "arch=compute_80,code=sm_80"
    assert sm80.gencode((8, 6)) == "arch=compute_86,code=sm_86"
    assert sm80.gencode((9, 0)) == "arch=compute_90a,code=sm_90a"
    with pytest.raises(MoeError, match="^compiled for sm_80 and later; this GPU is sm_75$"):
        sm80.gencode((7, 5))
    assert native_gencode((12, 0)) == "arch=compute_120a,code=sm_120a"


def test_three_digit_targets():
    m = good()
    m["target"] = {"name": "sm_100a", "capability": [10, 0], "arch_specific": True}
    assert Manifest.loads(json.dumps(m)).target.capability == (10, 0)


# -- the package ---------------------------------------------------------------

def test_importing_abi_loads_no_library_numpy_or_torch():
    code = ("import sys, moe_mlir.abi, moe_mlir._capi as c\n"
            "assert c._lib is None\n"
            "assert not [l for l in open('/proc/self/maps') if 'MoeCAPI' in l]\n"
            "assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               MOE_CAPI_LIB="/nonexistent/libMoeCAPI.so")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_max_tokens_bounds_a_launcher():
    doc = json.loads(docs_example())
    doc["launchers"][0]["max_tokens"] = 1000
    spec = Manifest.loads(json.dumps(doc))["v3_layer"]
    assert spec.max_tokens == 1000
    assert spec.workspace_bytes(1000) == 1000 * 8 * (14336 + 4096)
    spec.check_tokens(0)
    with pytest.raises(MoeError, match=r"launcher 'v3_layer' takes at most 1000 tokens "
                                       r"\(its tensors would pass 2\^48 bytes\), got 1001"):
        spec.workspace_bytes(1001)
    with pytest.raises(MoeError, match=r"num_tokens must be an integer, got 1.5"):
        spec.check_tokens(1.5)
    for bad in (-1, "7", 2.0, True):
        doc["launchers"][0]["max_tokens"] = bad
        with pytest.raises(MoeError, match=r"'max_tokens' must be null or an integer >= 0"):
            Manifest.loads(json.dumps(doc))
    # Absent or null: no bound stated.
    doc["launchers"][0]["max_tokens"] = None
    assert Manifest.loads(json.dumps(doc))["v3_layer"].max_tokens is None
