"""The FP8 expert FFN and the FP8 layer on the CPU reference, against the
independent NumPy oracle (fp8_reference.py): moe.expert_ffn on e4m3 rows and
weights with block scales, moe.permute carrying scales, and moe.layer with
e4m3 experts expanded into quantize -> permute -> FFN -> combine.

The block sums are exact on both sides and SiLU uses the same expf, so the
outputs are compared bitwise; a separate test bounds the FP8 result against
the unquantised FFN, which checks the scale conventions (dequantised weight
= w * scale_inv) independently of the oracle."""

import functools

import numpy as np
import pytest

import fp8_reference as fp8
import reference as ref
from moe_mlir.cpu import CPUProgram

F32 = np.float32


def bf16(values):
    return ref.bf16_bits_to_f32(ref.f32_to_bf16_bits(values))


ROUND = {"f32": None, "bf16": bf16,
         "f16": lambda v: np.asarray(v, F32).astype(np.float16).astype(F32)}


@functools.lru_cache(maxsize=None)
def ffn_program(E, H, I, out, ue8m0, routed=True, tokens="?"):
    rows = f"tensor<{tokens}x{H}xf8E4M3FN>"
    rs = f"tensor<{tokens}x{H // 128}xf32>"
    gu, d = f"tensor<{E}x{2 * I}x{H}xf8E4M3FN>", f"tensor<{E}x{H}x{I}xf8E4M3FN>"
    gus, ds = f"tensor<{E}x{2 * I // 128}x{H // 128}xf32>", f"tensor<{E}x{H // 128}x{I // 128}xf32>"
    y = f"tensor<{tokens}x{H}x{out}>"
    off_arg = f"%off: tensor<{E + 1}xi32>, " if routed else ""
    off = " offsets %off" if routed else ""
    off_t = f"tensor<{E + 1}xi32>, " if routed else ""
    fmt = " ue8m0" if ue8m0 else ""
    return CPUProgram(f"""
func.func @ffn(%x: {rows}, %xs: {rs}, {off_arg}%gu: {gu}, %d: {d}, %gus: {gus}, %ds: {ds}) -> {y} {{
  %y = moe.expert_ffn %x scales %xs{off} weights %gu, %d scales %gus, %ds{fmt}
      : ({rows}, {rs}, {off_t}{gu}, {d}, {gus}, {ds}) -> {y}
  return %y : {y}
}}""")


def random_codes(rng, shape):
    """Every finite e4m3fn code (NaN, 0x7F and 0xFF, left out)."""
    codes = rng.integers(0, 256, size=shape).astype(np.uint8)
    return np.where((codes & 0x7F) == 0x7F, codes ^ 0x01, codes).astype(np.uint8)


def random_scales(rng, shape, lo=-12, hi=-7):
    """Positive f32 scales across several binades (not powers of two)."""
    return (rng.uniform(1, 2, size=shape) * 2.0 ** rng.integers(lo, hi, size=shape)).astype(F32)


def random_ffn(rng, E, H, I, R):
    return dict(
        x=random_codes(rng, (R, H)), xs=random_scales(rng, (R, H // 128)),
        gu=random_codes(rng, (E, 2 * I, H)), d=random_codes(rng, (E, H, I)),
        gus=random_scales(rng, (E, 2 * I // 128, H // 128)),
        ds=random_scales(rng, (E, H // 128, I // 128)))


def check_ffn(a, offsets, out, ue8m0, routed=True):
    E, I2, H = a["gu"].shape
    prog = ffn_program(E, H, I2 // 2, out, ue8m0, routed)
    args = [a["x"], a["xs"]] + ([offsets] if routed else []) + \
        [a["gu"], a["d"], a["gus"], a["ds"]]
    got = prog.run("ffn", *args).astype(F32)  # f16 comes back as float16
    want = fp8.expert_ffn(a["x"], a["xs"], offsets if routed else None, a["gu"], a["gus"],
                          a["d"], a["ds"], ROUND[out], "ue8m0" if ue8m0 else None)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    return got


@pytest.mark.parametrize("out", ["f32", "bf16", "f16"])
@pytest.mark.parametrize("ue8m0", [False, True])
def test_routed_ffn_bitwise(out, ue8m0):
    rng = np.random.default_rng(hash((out, ue8m0)) % 2**32)
    E, H, I, R = 3, 256, 128, 9
    a = random_ffn(rng, E, H, I, R)
    # Expert 1 owns nothing, the last rows belong to no expert.
    offsets = np.array([0, 4, 4, 7], np.int32)
    got = check_ffn(a, offsets, out, ue8m0)
    assert np.all(got[7:] == 0) and np.any(got[:7] != 0)


def test_shared_ffn_bitwise_with_wide_shapes():
    """One expert for every row, H = 384 and I = 256: three and two K blocks,
    four gate/up scale rows."""
    rng = np.random.default_rng(7)
    a = random_ffn(rng, 1, 384, 256, 5)
    check_ffn(a, None, "bf16", False, routed=False)


def test_out_of_range_offsets_are_clamped():
    rng = np.random.default_rng(8)
    a = random_ffn(rng, 2, 128, 128, 6)
    got = check_ffn(a, np.array([-5, 2, 99], np.int32), "f32", False)
    assert np.any(got[5] != 0)


def test_empty_rows():
    rng = np.random.default_rng(9)
    a = random_ffn(rng, 2, 128, 128, 0)
    got = check_ffn(a, np.array([0, 0, 0], np.int32), "bf16", True)
    assert got.shape == (0, 128)


def test_nan_code_propagates_to_its_row_only():
    rng = np.random.default_rng(10)
    a = random_ffn(rng, 1, 128, 128, 3)
    a["x"][1, 17] = 0x7F
    got = check_ffn(a, np.array([0, 3], np.int32), "f32", False)
    assert np.all(np.isnan(got[1])) and not np.any(np.isnan(got[[0, 2]]))


def test_quantised_ffn_is_close_to_the_unquantised_one():
    """Checkpoint-style weights (fp8.weight_quant) and act_quant rows against
    the f64 FFN on the original values: the relative error per row stays at
    the few-percent level e4m3's 3 mantissa bits give, which a wrong block
    index, scale orientation or inverse scale would far exceed."""
    rng = np.random.default_rng(11)
    E, H, I, R = 2, 256, 256, 6
    x = rng.normal(size=(R, H)).astype(F32)
    gu = rng.normal(0, 0.05, size=(E, 2 * I, H)).astype(F32)
    d = rng.normal(0, 0.05, size=(E, H, I)).astype(F32)
    # Scale blocks over a wide range, so that swapped blocks show.
    gu *= np.repeat(np.repeat(2.0 ** rng.integers(-3, 4, size=(E, 2 * I // 128, H // 128)),
                              128, axis=1), 128, axis=2).astype(F32)
    q_x, s_x = fp8.act_quant(x)
    qgu, sgu = zip(*(fp8.weight_quant(w) for w in gu))
    qd, sd = zip(*(fp8.weight_quant(w) for w in d))
    offsets = np.array([0, 3, 6], np.int32)
    prog = ffn_program(E, H, I, "f32", False)
    got = prog.run("ffn", q_x, s_x, offsets, np.stack(qgu), np.stack(qd), np.stack(sgu),
                   np.stack(sd))
    want = ref.expert_ffn(x, offsets, gu, d)
    # Each e4m3 rounding is within 2^-4 relative (RMS about 3.6%); a dot
    # product of such terms has about that relative error times sqrt(2),
    # and x, the weights and h all round: 5-8% per row on random data.
    err = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
    assert np.all(err < 0.15), err
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.1
    # The control: the gate/up scales of one expert with their two K blocks
    # swapped (a transposed-scale bug) is far outside that.
    bad = np.stack(sgu).copy()
    bad[0] = bad[0][:, ::-1]
    got_bad = prog.run("ffn", q_x, s_x, offsets, np.stack(qgu), np.stack(qd), bad,
                       np.stack(sd))
    assert np.linalg.norm(got_bad[:3] - want[:3]) / np.linalg.norm(want[:3]) > 0.3


# -- moe.permute with scales --------------------------------------------------

def test_permute_moves_scales_with_rows():
    T, K, E, H = 7, 2, 4, 256
    text = f"""
func.func @p(%q: tensor<?x{H}xf8E4M3FN>, %s: tensor<?x2xf32>, %ids: tensor<?x{K}xi32>,
             %w: tensor<?x{K}xf32>)
    -> (tensor<?x{H}xf8E4M3FN>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>, tensor<?x2xf32>) {{
  %rows, %map, %off, %rs = moe.permute %q scales %s, %ids, %w capacity_factor = 1.0
      : (tensor<?x{H}xf8E4M3FN>, tensor<?x2xf32>, tensor<?x{K}xi32>, tensor<?x{K}xf32>)
        -> (tensor<?x{H}xf8E4M3FN>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>, tensor<?x2xf32>)
  return %rows, %map, %off, %rs
      : tensor<?x{H}xf8E4M3FN>, tensor<?x{K}xi32>, tensor<{E + 1}xi32>, tensor<?x2xf32>
}}"""
    prog = CPUProgram(text)
    rng = np.random.default_rng(12)
    q = random_codes(rng, (T, H))
    s = random_scales(rng, (T, 2))
    ids = np.array([[0, 1], [0, 2], [0, 3], [0, 1], [2, 3], [-1, 1], [3, 2]], np.int32)
    w = rng.uniform(size=(T, K)).astype(F32)
    rows, row_map, offsets, row_scales = prog.run("p", q, s, ids, w, check_dynamic=False)
    want_rows, want_map, want_off = ref.permute(q, ids, w, E, 1.0, "probs")
    want_scales, _, _ = ref.permute(s, ids, w, E, 1.0, "probs")
    assert rows.dtype == np.uint8
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(row_map, want_map)
    np.testing.assert_array_equal(offsets, want_off)
    np.testing.assert_array_equal(row_scales, want_scales)
    # Dropped slots leave zero rows and zero scales at the end.
    kept = int(offsets[-1])
    assert kept < T * K and np.all(rows[kept:] == 0) and np.all(row_scales[kept:] == 0)


# -- the FP8 layer --------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def layer_program(ue8m0, shared):
    E, H, I, Is, K = 8, 256, 128, 256, 2
    x, r = f"tensor<?x{H}xbf16>", f"tensor<{E}x{H}xbf16>"
    gu, d = f"tensor<{E}x{2 * I}x{H}xf8E4M3FN>", f"tensor<{E}x{H}x{I}xf8E4M3FN>"
    gus, ds = f"tensor<{E}x{2 * I // 128}x2xf32>", f"tensor<{E}x2x{I // 128}xf32>"
    sgu, sd = f"tensor<1x{2 * Is}x{H}xf8E4M3FN>", f"tensor<1x{H}x{Is}xf8E4M3FN>"
    sgus, sds = f"tensor<1x{2 * Is // 128}x2xf32>", f"tensor<1x2x{Is // 128}xf32>"
    args = [f"%x: {x}", f"%r: {r}", f"%b: tensor<{E}xf32>", f"%gu: {gu}", f"%d: {d}",
            f"%gus: {gus}", f"%ds: {ds}"]
    types = [x, r, f"tensor<{E}xf32>", gu, d, gus, ds]
    operands = "%x router %r bias %b experts %gu, %d scales %gus, %ds"
    if shared:
        args += [f"%sgu: {sgu}", f"%sd: {sd}", f"%sgus: {sgus}", f"%sds: {sds}"]
        types += [sgu, sd, sgus, sds]
        operands += " shared %sgu, %sd shared_scales %sgus, %sds"
    if ue8m0:
        operands += " ue8m0"
    return CPUProgram(f"""
func.func @layer({', '.join(args)}) -> {x} {{
  %y = moe.layer {operands}
      score sigmoid k = {K} groups = 4 group_topk = 2 group_score = topk_sum<2> normalize
      scale = 2.5 : ({', '.join(types)}) -> {x}
  return %y : {x}
}}""")


@pytest.mark.parametrize("ue8m0", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_fp8_layer_bitwise(ue8m0, shared):
    """Routing in bf16/f32 as the bf16 layer; x quantised once for the routed
    and the shared experts; the outputs bitwise as the NumPy pipeline."""
    rng = np.random.default_rng(20 + 2 * ue8m0 + shared)
    E, H, I, Is, K, T = 8, 256, 128, 256, 2, 11
    x = bf16(rng.normal(size=(T, H)).astype(F32))
    r = bf16(rng.normal(0, 0.1, size=(E, H)).astype(F32))
    b = rng.normal(0, 0.1, size=E).astype(F32)
    a = random_ffn(rng, E, H, I, 0)
    sh = random_ffn(rng, 1, H, Is, 0)
    args = [x, r, b, a["gu"], a["d"], a["gus"], a["ds"]]
    if shared:
        args += [sh["gu"], sh["d"], sh["gus"], sh["ds"]]
    got = layer_program(ue8m0, shared).run("layer", *args)

    fmt = "ue8m0" if ue8m0 else None
    z = (x.astype(np.float64) @ r.astype(np.float64).T).astype(F32)
    ids, w, _, _ = ref.route(ref.sigmoid(z), K, b, 4, 2, ("topk_sum", 2), True, 2.5)
    q, s = fp8.act_quant(x, 128, fmt)
    rows, row_map, offsets = ref.permute(q, ids, w, E)
    row_scales, _, _ = ref.permute(s, ids, w, E)
    y = fp8.expert_ffn(rows, row_scales, offsets, a["gu"], a["gus"], a["d"], a["ds"], bf16, fmt)
    shared_out = None
    if shared:
        shared_out = fp8.expert_ffn(q, s, None, sh["gu"], sh["gus"], sh["d"], sh["ds"], bf16,
                                    fmt)
    want = bf16(ref.combine_exact(y, row_map, w, shared_out))
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
