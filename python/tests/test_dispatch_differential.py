"""Dispatch layout, permute (with capacity and both drop policies),
expert FFN, combine and the whole expanded layer on the CPU against the
NumPy reference."""

import functools

import numpy as np
import pytest

import reference as ref
from moe_mlir.cpu import CPUProgram


@functools.lru_cache(maxsize=None)
def dispatch_program(nodes, gpus, epg, K, H, cf, policy):
    E = nodes * gpus * epg
    R = nodes * gpus
    cap = "" if cf is None else f" capacity_factor = {cf!r} drop {policy}"
    return CPUProgram(f"""
func.func @layout(%ids: tensor<?x{K}xi32>)
    -> (tensor<{E}xi32>, tensor<{R}xi32>, tensor<{nodes}xi32>, tensor<?x{R}xi1>) {{
  %pe, %pr, %pn, %in = moe.dispatch_layout %ids
      topology <nodes = {nodes}, gpus_per_node = {gpus}, experts_per_gpu = {epg}>
      : tensor<?x{K}xi32> -> tensor<{E}xi32>, tensor<{R}xi32>, tensor<{nodes}xi32>, tensor<?x{R}xi1>
  return %pe, %pr, %pn, %in : tensor<{E}xi32>, tensor<{R}xi32>, tensor<{nodes}xi32>, tensor<?x{R}xi1>
}}
func.func @permute(%x: tensor<?x{H}xf32>, %ids: tensor<?x{K}xi32>, %w: tensor<?x{K}xf32>)
    -> (tensor<?x{H}xf32>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>) {{
  %rows, %map, %off = moe.permute %x, %ids, %w{cap}
      : (tensor<?x{H}xf32>, tensor<?x{K}xi32>, tensor<?x{K}xf32>)
        -> (tensor<?x{H}xf32>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>)
  return %rows, %map, %off : tensor<?x{H}xf32>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>
}}
func.func @combine(%h: tensor<?x{H}xf32>, %map: tensor<?x{K}xi32>, %w: tensor<?x{K}xf32>,
                   %sh: tensor<?x{H}xf32>) -> tensor<?x{H}xf32> {{
  %y = moe.combine %h, %map, %w shared %sh
      : (tensor<?x{H}xf32>, tensor<?x{K}xi32>, tensor<?x{K}xf32>, tensor<?x{H}xf32>) -> tensor<?x{H}xf32>
  return %y : tensor<?x{H}xf32>
}}
""", name="dispatch")


def random_ids(rng, T, K, E, skew):
    if skew:
        # Heavily skewed: most tokens want the first few experts.
        p = np.exp(-np.arange(E) / 2.0)
        p /= p.sum()
        rows = [rng.choice(E, size=K, replace=False, p=p) for _ in range(T)]
    else:
        rows = [rng.permutation(E)[:K] for _ in range(T)]
    return np.array(rows, np.int32).reshape(T, K)


@pytest.mark.parametrize("T", [1, 7, 64])
@pytest.mark.parametrize("skew", [False, True])
def test_dispatch_layout(T, skew):
    prog = dispatch_program(2, 4, 4, 4, 8, None, "probs")
    rng = np.random.default_rng(T + 100 * skew)
    ids = random_ids(rng, T, 4, 32, skew)
    ids[0, -1] = -1
    got = prog.run("layout", ids)
    want = ref.dispatch_layout(ids, 2, 4, 4)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("cf,policy", [(None, "probs"), (1.0, "probs"), (0.5, "probs"),
                                       (1.0, "position"), (0.3, "position"), (4.0, "probs")])
@pytest.mark.parametrize("skew", [False, True])
@pytest.mark.parametrize("T", [1, 7, 33])
def test_permute_and_combine(cf, policy, skew, T):
    K, H, E = 4, 8, 32
    prog = dispatch_program(2, 4, 4, K, H, cf, policy)
    rng = np.random.default_rng(T * 7 + skew)
    x = rng.normal(size=(T, H)).astype(np.float32)
    ids = random_ids(rng, T, K, E, skew)
    w = rng.random((T, K)).astype(np.float32)
    w[:, 1] = w[:, 0]  # equal weights: ties go to the earlier assignment
    rows, row_map, offsets = prog.run("permute", x, ids, w)
    rrows, rmap, roff = ref.permute(x, ids, w, E, cf, policy)
    np.testing.assert_array_equal(offsets, roff)
    np.testing.assert_array_equal(row_map, rmap)
    np.testing.assert_array_equal(rows, rrows)
    sh = rng.normal(size=(T, H)).astype(np.float32)
    # rows has T·K rows, the others T: not one token count.
    y = prog.run("combine", rows, row_map, w, sh, check_dynamic=False)
    np.testing.assert_allclose(y, ref.combine(rows, row_map, w, sh), rtol=1e-6, atol=1e-6)


def test_permute_empty_batch():
    prog = dispatch_program(2, 4, 4, 4, 8, 1.0, "probs")
    rows, row_map, offsets = prog.run(
        "permute", np.zeros((0, 8), np.float32), np.zeros((0, 4), np.int32),
        np.zeros((0, 4), np.float32))
    assert rows.shape == (0, 8) and row_map.shape == (0, 4)
    np.testing.assert_array_equal(offsets, np.zeros(33, np.int32))


@functools.lru_cache(maxsize=None)
def layer_program(dtype):
    T, H, E, I, K, Is = "?", 16, 8, 6, 2, 4
    return CPUProgram(f"""
func.func @layer(%x: tensor<?x{H}x{dtype}>, %r: tensor<{E}x{H}x{dtype}>, %b: tensor<{E}xf32>,
                 %gu: tensor<{E}x{2 * I}x{H}x{dtype}>, %d: tensor<{E}x{H}x{I}x{dtype}>,
                 %sgu: tensor<1x{2 * Is}x{H}x{dtype}>, %sd: tensor<1x{H}x{Is}x{dtype}>)
    -> (tensor<?x{H}x{dtype}>, tensor<f32>) {{
  %y, %l = moe.layer %x router %r bias %b experts %gu, %d shared %sgu, %sd
      score sigmoid k = {K} groups = 4 group_topk = 2 group_score = topk_sum<2> normalize scale = 2.5
      losses [#moe.loss<sequence, alpha = 1.0e-2, counts = topk>]
      : (tensor<?x{H}x{dtype}>, tensor<{E}x{H}x{dtype}>, tensor<{E}xf32>, tensor<{E}x{2 * I}x{H}x{dtype}>,
         tensor<{E}x{H}x{I}x{dtype}>, tensor<1x{2 * Is}x{H}x{dtype}>, tensor<1x{H}x{Is}x{dtype}>)
        -> (tensor<?x{H}x{dtype}>, tensor<f32>)
  return %y, %l : tensor<?x{H}x{dtype}>, tensor<f32>
}}
""", name="layer")


def layer_reference(x, r, b, gu, d, sgu, sd):
    z = (x.astype(np.float64) @ r.astype(np.float64).T).astype(np.float32)
    s = ref.sigmoid(z)
    ids, w, _, _ = ref.route(s, 2, b, 4, 2, ("topk_sum", 2), True, 2.5)
    rows, row_map, offsets = ref.permute(x, ids, w, 8)
    h = ref.expert_ffn(rows, offsets, gu, d)
    sh = ref.expert_ffn(x, None, sgu, sd)
    y = ref.combine(h, row_map, w, sh)
    loss = ref.balance_loss(s, ids, "sequence", np.float32(1e-2).item(), counts="topk")
    return y, loss, ids


@pytest.mark.parametrize("T", [1, 5, 32])
def test_whole_layer_f32(T):
    prog = layer_program("f32")
    rng = np.random.default_rng(T)
    H, E, I, Is = 16, 8, 6, 4
    args = (rng.normal(size=(T, H)).astype(np.float32),
            rng.normal(size=(E, H)).astype(np.float32),
            rng.normal(0, 0.1, size=E).astype(np.float32),
            rng.normal(0, 0.3, size=(E, 2 * I, H)).astype(np.float32),
            rng.normal(0, 0.3, size=(E, H, I)).astype(np.float32),
            rng.normal(0, 0.3, size=(1, 2 * Is, H)).astype(np.float32),
            rng.normal(0, 0.3, size=(1, H, Is)).astype(np.float32))
    y, loss = prog.run("layer", *args)
    ry, rloss, _ = layer_reference(*args)
    scale = float(np.max(np.abs(ry)))
    assert float(np.max(np.abs(y - ry))) <= 1e-5 * scale
    assert float(loss) == pytest.approx(rloss, rel=1e-5)


def test_whole_layer_bf16_runs_and_rounds():
    """bf16 activations: the output is the f32 result rounded to bf16 (the
    intermediate SwiGLU activation too), so compare loosely."""
    prog = layer_program("bf16")
    rng = np.random.default_rng(0)
    H, E, I, Is, T = 16, 8, 6, 4, 9
    args = [rng.normal(size=(T, H)), rng.normal(size=(E, H)), rng.normal(0, 0.1, size=E),
            rng.normal(0, 0.3, size=(E, 2 * I, H)), rng.normal(0, 0.3, size=(E, H, I)),
            rng.normal(0, 0.3, size=(1, 2 * Is, H)), rng.normal(0, 0.3, size=(1, H, Is))]
    args = [a.astype(np.float32) for a in args]
    bf = lambda a: ((a.view(np.uint32) + 0x7FFF + ((a.view(np.uint32) >> 16) & 1)) >> 16 << 16).astype(np.uint32).view(np.float32)
    rounded = [bf(a) if i != 2 else a for i, a in enumerate(args)]
    y, _ = prog.run("layer", *args)
    ry, _, _ = layer_reference(*rounded)
    assert y.dtype == np.float32
    assert float(np.max(np.abs(y - ry))) <= 2e-2 * float(np.max(np.abs(ry)))


def test_static_token_count_layer():
    """Static shapes everywhere (T = 4): the permuted rows are 8 x H."""
    prog = CPUProgram("""
func.func @layer(%x: tensor<4x16xf32>, %r: tensor<8x16xf32>, %gu: tensor<8x12x16xf32>,
                 %d: tensor<8x16x6xf32>) -> tensor<4x16xf32> {
  %y = moe.layer %x router %r experts %gu, %d score softmax k = 2 capacity_factor = 1.0
      : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8x12x16xf32>, tensor<8x16x6xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}""")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 16)).astype(np.float32)
    r = rng.normal(size=(8, 16)).astype(np.float32)
    gu = rng.normal(0, 0.3, size=(8, 12, 16)).astype(np.float32)
    d = rng.normal(0, 0.3, size=(8, 16, 6)).astype(np.float32)
    y = prog.run("layer", x, r, gu, d)
    s = ref.softmax((x.astype(np.float64) @ r.astype(np.float64).T).astype(np.float32))
    ids, w, _, _ = ref.route(s, 2)
    rows, row_map, offsets = ref.permute(x, ids, w, 8, 1.0, "probs")
    want = ref.combine(ref.expert_ffn(rows, offsets, gu, d), row_map, w)
    assert float(np.max(np.abs(y - want))) <= 1e-5 * float(np.max(np.abs(want)))


# The vectorised reference (used by bench/dispatch on large batches) against
# the loop reference and, bitwise, against the compiled lowering.

@pytest.mark.parametrize("cf,policy", [(None, "probs"), (1.0, "probs"), (0.5, "probs"),
                                       (1.0, "position"), (0.3, "position")])
@pytest.mark.parametrize("skew", [False, True])
def test_fast_reference_matches(cf, policy, skew):
    T, K, H, E = 57, 4, 8, 32
    prog = dispatch_program(2, 4, 4, K, H, cf, policy)
    rng = np.random.default_rng(5 + skew)
    x = rng.normal(size=(T, H)).astype(np.float32)
    ids = random_ids(rng, T, K, E, skew)
    ids[3, 2] = -1
    w = np.round(rng.random((T, K)) * 4).astype(np.float32) / 4  # many ties
    w[5, 0] = np.nan
    w[6, 1] = -0.0
    for got, want in zip(ref.permute_fast(x, ids, w, E, cf, policy),
                         ref.permute(x, ids, w, E, cf, policy)):
        np.testing.assert_array_equal(got, want)
    rows, row_map, offsets = prog.run("permute", x, ids, w)
    for got, want in zip((rows, row_map, offsets), ref.permute_fast(x, ids, w, E, cf, policy)):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(ref.dispatch_layout_fast(ids, 2, 4, 4), ref.dispatch_layout(ids, 2, 4, 4)):
        np.testing.assert_array_equal(got, want)
    sh = rng.normal(size=(T, H)).astype(np.float32)
    y = prog.run("combine", rows, row_map, w, sh, check_dynamic=False)
    np.testing.assert_array_equal(y, ref.combine_exact(rows, row_map, w, sh))


def test_combine_exact_bf16_bitwise():
    T, K, H = 19, 3, 16
    prog = CPUProgram(f"""
func.func @combine(%h: tensor<?x{H}xbf16>, %map: tensor<?x{K}xi32>, %w: tensor<?x{K}xf32>)
    -> tensor<?x{H}xbf16> {{
  %y = moe.combine %h, %map, %w
      : (tensor<?x{H}xbf16>, tensor<?x{K}xi32>, tensor<?x{K}xf32>) -> tensor<?x{H}xbf16>
  return %y : tensor<?x{H}xbf16>
}}
""", name="combine_bf16")
    rng = np.random.default_rng(3)
    rows = ref.f32_to_bf16_bits(rng.normal(size=(T * K, H)).astype(np.float32))
    row_map = rng.integers(-1, T * K, size=(T, K)).astype(np.int32)
    w = rng.random((T, K)).astype(np.float32)
    got = prog.run("combine", rows, row_map, w, check_dynamic=False)
    want = ref.f32_to_bf16_bits(ref.combine_exact(ref.bf16_bits_to_f32(rows), row_map, w))
    got_bits = ref.f32_to_bf16_bits(got) if got.dtype == np.float32 else got
    np.testing.assert_array_equal(got_bits, want)
