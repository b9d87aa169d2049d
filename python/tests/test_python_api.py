"""The Python package without a GPU: modules (parse, verify, passes, CUDA
emission, diagnostics as exceptions with locations), layer configs from
HuggingFace config.json files and keyword arguments, and the command line."""

import json
import os
import re
import subprocess
import sys

import pytest

import reference  # noqa: F401  (numpy is present: the suite's baseline)
from moe_mlir import MoeError
from moe_mlir.config import LayerConfig
from moe_mlir.ir import Module

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HF = os.path.join(ROOT, "examples", "hf")


def test_module_roundtrip_passes_and_cuda():
    m = Module.load(os.path.join(ROOT, "examples", "deepseek-v3.mlir"))
    assert m.functions() == ["deepseek_v3_moe", "deepseek_v3_moe_train", "deepseek_v3_router_step"]
    m.verify()
    m.run("moe-expand-layer")
    text = str(m)
    assert "moe.layer" not in text and "moe.expert_ffn" in text
    m.run("moe-plan-dispatch")
    plans = [r for r in m.remarks if "a token reaches at most 4 nodes" in r.message]
    assert plans and plans[0].severity == "remark" and plans[0].file == m.name
    assert str(plans[0]).startswith(f"{m.name}:{plans[0].line}:{plans[0].column}: remark: ")
    copy = m.copy()
    copy.run("moe-lower-to-cuda")
    assert "emitc.func" in str(copy) and "moe.route" in str(m)  # the copy is independent
    cu, h = m.cuda(), m.cuda_header()
    assert 'extern "C" cudaError_t deepseek_v3_moe(' in cu
    assert "size_t deepseek_v3_moe_workspace_size(int64_t num_tokens);" in h


def test_lowering_options_pass_through_run():
    m = Module.load(os.path.join(ROOT, "bench", "layer", "layer.mlir"))
    default = m.cuda()
    m.run("moe-lower-to-cuda{fuse-gather=true}")
    fused = m.cuda()  # already EmitC: printed as lowered
    assert "v3_layer_k3_gather(" in default and "v3_layer_k3_gather(" not in fused
    with pytest.raises(MoeError) as err:
        m.copy().run("moe-lower-to-cuda{fuse-gathr=true}")
    assert "fuse-gathr" in str(err.value)


def test_parse_error_has_location():
    with pytest.raises(MoeError) as err:
        Module("func.func @f() {\n  moe.bogus\n}\n", name="bad.mlir")
    assert err.value.location == ("bad.mlir", 2, 3)
    assert err.value.errors[0].severity == "error"
    assert "custom op 'moe.bogus' is unknown" in err.value.errors[0].message


def test_verifier_error_names_the_rule():
    text = open(os.path.join(ROOT, "examples", "deepseek-v3.mlir")).read()
    bad = text.replace("group_topk = 4", "group_topk = 9", 1)
    with pytest.raises(MoeError) as err:
        Module(bad, name="v3.mlir")
    assert "group_topk" in str(err.value) and err.value.location[0] == "v3.mlir"


def test_pipeline_error():
    m = Module("module {}", name="empty")
    with pytest.raises(MoeError, match="invalid pass pipeline 'no-such-pass'"):
        m.run("no-such-pass")


def test_diagnostic_fields_come_apart_from_the_c_api():
    # A file name shaped like "file:line:col: error: message" and a message
    # holding ": error: " and newlines (the pass pipeline parser's own
    # diagnostic) arrive as fields; nothing is parsed back out of text.
    name = "C:\\tmp\\x:7:9: error: y.mlir"
    with pytest.raises(MoeError) as err:
        Module("func.func @f() {\n  moe.bogus\n}\n", name=name)
    d = err.value.errors[0]
    assert (d.severity, d.message) == ("error", "custom op 'moe.bogus' is unknown")
    assert (d.file, d.line, d.column, d.notes) == (name, 2, 3, [])
    assert err.value.location == (name, 2, 3)
    assert err.value.diagnostics == [f"{name}:2:3: error: custom op 'moe.bogus' is unknown"]

    m = Module("module {}", name="p:1:1: note: q")
    with pytest.raises(MoeError) as err:
        m.run("no-such-pass")
    (d,) = err.value.errors
    assert (d.severity, d.file, d.line, d.column) == ("error", "p:1:1: note: q", 1, 1)
    assert d.message.startswith("invalid pass pipeline 'no-such-pass': ")
    assert ": error: 'no-such-pass' does not refer to a registered pass" in d.message
    assert "\nno-such-pass\n" in d.message  # the parser's caret line is kept


def test_diagnostic_notes_and_locations_without_a_file():
    with pytest.raises(MoeError) as err:
        Module("func.func private @f()\nfunc.func private @f()\n", name="r.mlir")
    (d,) = err.value.errors
    assert (d.message, d.file, d.line, d.column) == ("redefinition of symbol named 'f'",
                                                     "r.mlir", 2, 1)
    (note,) = d.notes
    assert (note.severity, note.message, note.file, note.line, note.column) == (
        "note", "see existing symbol definition here", "r.mlir", 1, 1)
    assert err.value.diagnostics == ["r.mlir:2:1: error: redefinition of symbol named 'f'\n"
                                     "r.mlir:1:1: note: see existing symbol definition here"]

    route = ("func.func @f(%s: tensor<4x8xf32>) {{\n"
             "  %ids, %w = moe.route %s k = 2 groups = 3\n"
             "      : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>) {loc}\n"
             "  return\n}}\n")
    message = "'moe.route' op 'groups' (3) must divide the number of experts (8)"
    # No file position: no file, line or column; the location as MLIR prints it.
    with pytest.raises(MoeError) as err:
        Module(route.format(loc="loc(unknown)"), name="u.mlir")
    (d,) = err.value.errors
    assert (d.message, d.file, d.line, d.column) == (message, None, None, None)
    assert d.location == "loc(unknown)" and err.value.location is None
    assert err.value.diagnostics == [f"loc(unknown): error: {message}"]
    # A file position nested in a named location is found.
    with pytest.raises(MoeError) as err:
        Module(route.format(loc='loc("router"("model.py":40:7))'), name="n.mlir")
    (d,) = err.value.errors
    assert (d.file, d.line, d.column) == ("model.py", 40, 7)
    assert d.location == 'loc("router"("model.py":40:7))'


def test_cuda_emission_error_is_an_exception():
    m = Module("""
func.func @f(%x: tensor<?x16xf32>, %off: tensor<5xi32>, %gu: tensor<4x8x16xf32>, %d: tensor<4x16x4xf32>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x offsets %off weights %gu, %d
      : (tensor<?x16xf32>, tensor<5xi32>, tensor<4x8x16xf32>, tensor<4x16x4xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}""", name="f32.mlir")
    with pytest.raises(MoeError, match="'a' has element type 'f32', expected 'bf16'") as err:
        m.cuda()
    assert err.value.location[:2] == ("f32.mlir", 3)
    assert err.value.errors[0].message.startswith("'moegpu.grouped_gemm' op")


@pytest.mark.parametrize("name,want", [
    ("deepseek-v3", dict(experts=256, k=8, groups=8, group_topk=4, group_score=("topk_sum", 2),
                         score="sigmoid", bias=True, normalize=True, scale=2.5, hidden=7168,
                         intermediate=2048, shared_intermediate=2048)),
    ("deepseek-v2", dict(experts=160, k=6, groups=8, group_topk=3, group_score=("max", 1),
                         score="softmax", bias=False, normalize=False, scale=16.0,
                         hidden=5120, intermediate=1536, shared_intermediate=3072)),
    ("deepseek-v2-lite", dict(experts=64, k=6, groups=1, group_topk=1, score="softmax",
                              bias=False, normalize=False, scale=1.0, hidden=2048,
                              intermediate=1408, shared_intermediate=2816)),
])
def test_hf_configs(name, want):
    c = LayerConfig.from_hf(os.path.join(HF, name + ".json"))
    for key, value in want.items():
        assert getattr(c, key) == value, key
    m = Module(c.layer_mlir() + c.layer_mlir(training=True, seq_len=4096, name="train")
               + c.routing_mlir() + c.router_training_mlir(seq_len=4096), name=name)
    m.verify()
    m.run("moe-expand-layer")
    assert "moe.balance_loss" in str(m)


def test_v3_config_gives_the_builtin_example():
    """The V3 config.json and the hand-written example expand identically."""
    c = LayerConfig.from_hf(os.path.join(HF, "deepseek-v3.json"), name="deepseek_v3_moe")
    ours = Module(c.layer_mlir()).run("moe-expand-layer,canonicalize")
    text = open(os.path.join(ROOT, "examples", "deepseek-v3.mlir")).read()
    example = Module(text).run("moe-expand-layer,canonicalize")
    body = lambda m: str(m).split("func.func @deepseek_v3_moe(")[1].split("\n  }\n")[0]
    assert body(ours) == body(example)


def test_v2_normalised_config_does_not_scale():
    cfg = json.load(open(os.path.join(HF, "deepseek-v2.json")))
    cfg["norm_topk_prob"] = True
    c = LayerConfig.from_hf(cfg)
    assert c.normalize and c.scale == 1.0


@pytest.mark.parametrize("change,message", [
    ({"topk_method": "magic"}, "unknown topk_method 'magic'"),
    ({"scoring_func": "relu", "topk_method": "group_limited_greedy"},
     "unknown scoring_func 'relu'"),
    ({"scoring_func": "softmax"}, "'noaux_tc' (DeepSeek-V3) routes sigmoid scores"),
    ({"n_group": 7}, "'experts' (256) must be divisible by 'groups' (7)"),
    ({"topk_group": 9}, "'group_topk' (9) must be in [1, groups = 8]"),
    ({"num_experts_per_tok": 200}, "'k' (200) exceeds the 128 experts in 4 of 8 groups"),
    ({"hidden_size": None}, "missing 'hidden_size'"),
])
def test_hf_config_errors(change, message):
    cfg = json.load(open(os.path.join(HF, "deepseek-v3.json")))
    for key, value in change.items():
        if value is None:
            del cfg[key]
        else:
            cfg[key] = value
    with pytest.raises(MoeError) as err:
        LayerConfig.from_hf(cfg)
    assert message in str(err.value)


def test_greedy_with_groups_is_contradictory():
    cfg = json.load(open(os.path.join(HF, "deepseek-v2-lite.json")))
    cfg.update(n_group=8, topk_group=3)
    with pytest.raises(MoeError, match="'greedy' ignores groups"):
        LayerConfig.from_hf(cfg)


def test_keyword_errors():
    with pytest.raises(MoeError, match="unknown argument\\(s\\) expert"):
        LayerConfig(expert=8, k=2, hidden=64, intermediate=64)
    with pytest.raises(MoeError, match="'k' is required"):
        LayerConfig(experts=8, hidden=64, intermediate=64)
    with pytest.raises(MoeError, match="'group_score' must be 'max' or 'topk_sum<n>'"):
        LayerConfig(experts=8, k=2, hidden=64, intermediate=64, group_score="sum")
    with pytest.raises(MoeError, match="no auxiliary loss"):
        LayerConfig(experts=8, k=2, hidden=64, intermediate=64).layer_mlir(training=True)


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    return subprocess.run([sys.executable, "-m", "moe_mlir", *args], capture_output=True,
                          text=True, env=env)


def test_cli_compiles_a_config(tmp_path):
    out = tmp_path / "v3"
    run = run_cli("compile", os.path.join(HF, "deepseek-v3.json"), "-o", str(out),
                  "--name", "v3", "--training", "--routing", "--topology", "8,8,4")
    assert run.returncode == 0, run.stderr
    files = sorted(os.listdir(out))
    assert files == ["00-input.mlir", "01-expanded.mlir", "02-planned.mlir",
                     "03-configured.mlir", "04-bufferized.mlir", "05-workspace.mlir",
                     "06-emitc.mlir", "summary.txt", "v3.cu", "v3.h", "v3.json"]
    summary = (out / "summary.txt").read_text()
    assert "cudaError_t v3(const __nv_bfloat16* input" in summary
    assert "size_t v3_train_workspace_size(int64_t num_tokens);" in summary
    assert "a token reaches at most 4 nodes" in summary
    assert "workspace plan of @v3 at 65536 tokens" in summary
    assert "arch=compute_90a,code=sm_90a" in summary
    assert "moe.dispatch_layout" in (out / "02-planned.mlir").read_text()
    configured = (out / "03-configured.mlir").read_text()
    assert '#moegpu.target<"sm_90a">' in configured and "#moegpu.gemm<wgmma" in configured
    assert "memref.view" in (out / "05-workspace.mlir").read_text()
    from moe_mlir.abi import Manifest
    manifest = Manifest.load(str(out / "v3.json"))
    assert manifest.target.name == "sm_90a"
    assert list(manifest.launchers) == ["v3", "v3_train", "v3_route"]
    assert manifest["v3"].workspace.bytes(4096) > 0


def test_cli_target(tmp_path):
    run = run_cli("compile", os.path.join(HF, "deepseek-v3.json"), "-o", str(tmp_path),
                  "--name", "v3", "--target", "sm_80")
    assert run.returncode == 0, run.stderr
    summary = (tmp_path / "summary.txt").read_text()
    assert "target: sm_80" in summary and "arch=compute_80,code=sm_80" in summary
    cu = (tmp_path / "v3.cu").read_text()
    assert "launchGemmMma" in cu and "launchGemmWgmma" not in cu
    run = run_cli("compile", os.path.join(HF, "deepseek-v3.json"), "-o", str(tmp_path),
                  "--target", "sm_75")
    assert run.returncode == 2 and "invalid choice: 'sm_75'" in run.stderr


def test_cli_compiles_mlir_and_reports_errors(tmp_path):
    run = run_cli("compile", os.path.join(ROOT, "examples", "deepseek-v2.mlir"), "-o",
                  str(tmp_path / "v2"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "v2" / "deepseek_v2.cu").exists()
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f() {\n  moe.bogus\n}\n")
    run = run_cli("compile", str(bad), "-o", str(tmp_path / "bad"))
    assert run.returncode == 1
    assert f"{bad}:2:3: error: custom op 'moe.bogus' is unknown" in run.stderr
    run = run_cli("compile", str(bad), "-o", str(tmp_path / "bad"), "--training")
    assert run.returncode == 1 and "apply to a config.json input" in run.stderr


def test_cli_fuse_gather_drops_the_rows_buffer(tmp_path):
    runs = {}
    for flag in ([], ["--fuse-gather"]):
        out = tmp_path / ("fused" if flag else "copied")
        run = run_cli("compile", os.path.join(HF, "deepseek-v3.json"), "-o", str(out),
                      "--name", "v3", *flag)
        assert run.returncode == 0, run.stderr
        runs[bool(flag)] = ((out / "v3.cu").read_text(), (out / "summary.txt").read_text())
    copied, fused = runs[False][0], runs[True][0]
    # The permute's row copy kernel and its [T*8, 7168] bf16 buffer are gone;
    # the gate/up GEMM reads the input through the row-to-token map instead.
    assert "permuteGatherBody" in copied and "permuteGatherBody" not in fused
    assert "k3.permute.rows" in runs[False][1] and "k3.permute.rows" not in runs[True][1]
    assert re.search(r"launchGemmWgmma<v3_k5_spec, 128, 4>\(v\d+, v1, v\d+, v\d+,", fused)
    assert "fuse-gather" in runs[True][1] and "fuse-gather" not in runs[False][1]


def test_cli_help():
    run = run_cli("compile", "--help")
    assert run.returncode == 0 and "--topology NODES,GPUS[,NODE_LIMIT]" in run.stdout


def test_cli_names_the_layer_after_the_model(tmp_path):
    # A model directory is read through its config.json, and the function
    # and the files take the model's name unless --name says otherwise.
    model = tmp_path / "DeepSeek-V3.1"
    model.mkdir()
    with open(os.path.join(HF, "deepseek-v3.json")) as f:
        (model / "config.json").write_text(f.read())
    for source in (model, model / "config.json"):
        out = tmp_path / ("out-" + source.name)
        run = run_cli("compile", str(source), "-o", str(out))
        assert run.returncode == 0, run.stderr
        assert "cudaError_t deepseek_v3_1(const __nv_bfloat16* input" in \
            (out / "summary.txt").read_text()
        assert (out / "deepseek_v3_1.cu").exists()
    run = run_cli("compile", os.path.join(HF, "deepseek-v3.json"), "-o", str(tmp_path / "f"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "f" / "deepseek_v3.h").read_text().count("cudaError_t deepseek_v3(") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    run = run_cli("compile", str(empty), "-o", str(tmp_path / "e"))
    assert run.returncode == 1
    assert f"error: {empty}: no config.json in this directory" in run.stderr


def test_model_name():
    from moe_mlir.__main__ import model_name
    assert model_name("/m/Mixtral-8x7B-v0.1/config.json") == "mixtral_8x7b_v0_1"
    assert model_name("examples/hf/qwen3-30b-a3b.json") == "qwen3_30b_a3b"
    assert model_name("/m/7B-chat/config.json") == "m_7b_chat"
    assert model_name("/m/---/config.json") == "moe_layer"
