"""The CPU runner's contract: arrays in, arrays out, and every misuse a
MoeError with the compiler's diagnostic text."""

import numpy as np
import pytest

from moe_mlir import MoeError
from moe_mlir.cpu import CPUProgram

ROUTE = """
func.func @route(%s: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>) {
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  return %ids, %w : tensor<?x2xi32>, tensor<?x2xf32>
}
func.func @counts(%ids: tensor<?x2xi32>) -> tensor<8xi32> {
  %c = moe.expert_counts %ids : tensor<?x2xi32> -> tensor<8xi32>
  return %c : tensor<8xi32>
}
func.func @identity_bias(%b: tensor<8xf32>, %c: tensor<8xi32>) -> tensor<8xf32> {
  %r = moe.bias_update %b, %c rate = 0.0 : tensor<8xf32>, tensor<8xi32>
  return %r : tensor<8xf32>
}
func.func @gate(%x: tensor<?x4xbf16>, %w: tensor<8x4xbf16>) -> tensor<?x8xf32> {
  %z = moe.gate %x, %w : tensor<?x4xbf16>, tensor<8x4xbf16> -> tensor<?x8xf32>
  return %z : tensor<?x8xf32>
}
"""


@pytest.fixture(scope="module")
def prog():
    with CPUProgram(ROUTE, name="route.mlir") as p:
        yield p


def test_signatures(prog):
    assert str(prog.signatures["route"]) == \
        "@route(tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)"


def test_results_and_repeat_calls(prog):
    s = np.array([[0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]], np.float32)
    for _ in range(3):
        ids, w = prog.run("route", s)
        np.testing.assert_array_equal(ids, [[1, 3]])
        np.testing.assert_array_equal(w, np.array([[0.9, 0.8]], np.float32))


def test_result_aliasing_an_input_is_not_freed(prog):
    b = np.arange(8, dtype=np.float32)
    out = prog.run("identity_bias", b, np.ones(8, np.int32))
    np.testing.assert_array_equal(out, b)
    np.testing.assert_array_equal(b, np.arange(8, dtype=np.float32))


def test_bf16_arguments(prog):
    x = np.array([[1.0, 2.0, 3.0, 0.5]], np.float32)
    w = np.ones((8, 4), np.float32)
    np.testing.assert_array_equal(prog.run("gate", x, w), np.full((1, 8), 6.5, np.float32))
    raw = (x.view(np.uint32) >> 16).astype(np.uint16)
    np.testing.assert_array_equal(prog.run("gate", raw, w), np.full((1, 8), 6.5, np.float32))


def test_empty_batch(prog):
    ids, w = prog.run("route", np.zeros((0, 8), np.float32))
    assert ids.shape == (0, 2) and w.shape == (0, 2)


def test_non_contiguous_input(prog):
    s = np.random.default_rng(0).random((8, 16), dtype=np.float32)[:, ::2]
    ids, _ = prog.run("route", s)
    ids2, _ = prog.run("route", np.ascontiguousarray(s))
    np.testing.assert_array_equal(ids, ids2)


def test_wrong_dtype(prog):
    with pytest.raises(MoeError, match=r"argument 0 of @route: expected tensor<\?x8xf32> "
                                       r"\(float32 elements\), got a float64 array"):
        prog.run("route", np.zeros((2, 8)))


def test_wrong_shape(prog):
    with pytest.raises(MoeError, match=r"expected tensor<\?x8xf32>, got an array of shape "
                                       r"\(2, 7\) \(dim 1 must be 8\)"):
        prog.run("route", np.zeros((2, 7), np.float32))


def test_wrong_rank(prog):
    with pytest.raises(MoeError, match=r"\(rank 2\), got an array of shape \(8,\)"):
        prog.run("route", np.zeros(8, np.float32))


def test_wrong_argument_count(prog):
    with pytest.raises(MoeError, match=r"@route takes 1 arguments, got 2"):
        prog.run("route", np.zeros((1, 8), np.float32), np.zeros(1))


def test_unknown_function(prog):
    with pytest.raises(MoeError, match=r"no public function @router; have @route"):
        prog.run("router", np.zeros((1, 8), np.float32))


def test_disagreeing_token_counts():
    p = CPUProgram("""
    func.func @l(%s: tensor<?x8xf32>, %ids: tensor<?x2xi32>) -> tensor<f32> {
      %l = moe.balance_loss %s, %ids <expert, alpha = 1.0> : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
      return %l : tensor<f32>
    }""")
    with pytest.raises(MoeError, match=r"dynamic dimensions \(the token count\) disagree: "
                                       r"argument 0 dim 0 = 3, argument 1 dim 0 = 4"):
        p.run("l", np.zeros((3, 8), np.float32), np.zeros((4, 2), np.int32))


def test_parse_error_carries_location():
    with pytest.raises(MoeError) as err:
        CPUProgram("func.func @f(%s: tensor<4x8xf32>) {\n  %x = moe.nope %s\n}", name="bad.mlir")
    assert "cannot parse bad.mlir" in str(err.value)
    assert err.value.diagnostics == ["bad.mlir:2:8: error: custom op 'moe.nope' is unknown"]


def test_verifier_error_carries_location():
    src = """func.func @f(%s: tensor<4x8xf32>) -> tensor<4x2xi32> {
  %ids, %w = moe.route %s k = 2 groups = 3 : (tensor<4x8xf32>) -> (tensor<4x2xi32>, tensor<4x2xf32>)
  return %ids : tensor<4x2xi32>
}"""
    with pytest.raises(MoeError) as err:
        CPUProgram(src, name="groups.mlir")
    assert err.value.diagnostics == [
        "groups.mlir:2:14: error: 'moe.route' op 'groups' (3) must divide the number of experts (8)"]


def test_closed_program():
    p = CPUProgram(ROUTE)
    p.close()
    with pytest.raises(MoeError, match="closed"):
        p.run("route", np.zeros((1, 8), np.float32))


def test_missing_library(monkeypatch, tmp_path):
    import moe_mlir._capi as capi
    monkeypatch.setattr(capi, "_lib", None)
    monkeypatch.setenv("MOE_CAPI_LIB", str(tmp_path / "libMoeCAPI.so"))
    with pytest.raises(MoeError, match="cannot load"):
        capi.lib()


LOSS = """
func.func @loss(%z: tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<f32>) {
  %s = moe.score sigmoid %z : tensor<?x8xf32> -> tensor<?x8xf32>
  %ids, %w = moe.route %s k = 2 : (tensor<?x8xf32>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %l = moe.balance_loss %s, %ids <sequence, alpha = 1.0, counts = topk, seq_len = 4>
      : tensor<?x8xf32>, tensor<?x2xi32> -> tensor<f32>
  return %ids, %l : tensor<?x2xi32>, tensor<f32>
}
"""


def test_partial_sequence_is_an_error_not_an_abort():
    # A dynamic token count that is not whole sequences used to stop the
    # process (cf.assert); the program now records it and returns.
    rng = np.random.default_rng(7)
    with CPUProgram(LOSS, name="loss.mlir") as p:
        z = rng.standard_normal((8, 8)).astype(np.float32)
        ids, good = p.run("loss", z)
        assert ids.shape == (8, 2) and np.isfinite(good) and good > 0
        with pytest.raises(MoeError, match=r"@loss: the token count \(6\) is not a multiple of "
                                           r"a balance loss's seq_len \(4\)"):
            p.run("loss", z[:6])
        # The record is cleared per call: whole sequences work again, with
        # bitwise the same loss.
        again = p.run("loss", z)[1]
        assert again.tobytes() == good.tobytes()
        assert p.run("loss", z[:0])[1] == 0.0


def test_programs_without_run_time_checks_have_no_record(prog):
    assert prog._record is None
