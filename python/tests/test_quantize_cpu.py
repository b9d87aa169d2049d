"""moe.quantize on the CPU reference against the independent NumPy oracle
(fp8_reference.act_quant): values and scales bitwise, for f32, bf16 and f16
inputs, several groups, plain and ue8m0 scales, dynamic and static token
counts, and the corners (every rounding midpoint, all-zero groups, NaN,
no tokens)."""

import functools

import numpy as np
import pytest

import fp8_reference as fp8
from moe_mlir.cpu import CPUProgram

F32 = np.float32


@functools.lru_cache(maxsize=None)
def program(dtype, width, group, ue8m0, tokens="?"):
    groups = width // group
    x = f"tensor<{tokens}x{width}x{dtype}>"
    q = f"tensor<{tokens}x{width}xf8E4M3FN>"
    s = f"tensor<{tokens}x{groups}xf32>"
    fmt = " ue8m0" if ue8m0 else ""
    return CPUProgram(f"""
func.func @quantize(%x: {x}) -> ({q}, {s}) {{
  %q, %s = moe.quantize %x group = {group}{fmt} : {x} -> {q}, {s}
  return %q, %s : {q}, {s}
}}""")


def as_input(x, dtype):
    """The array handed to the runner and the f32 values the op sees."""
    if dtype == "f32":
        x = x.astype(F32)
        return x, x
    if dtype == "f16":
        x = x.astype(np.float16)
        return x, x.astype(F32)
    bits = np.ascontiguousarray(x, F32).view(np.uint32)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return bits, (bits.astype(np.uint32) << 16).view(F32)


def check(x, dtype="f32", group=128, ue8m0=False, tokens="?"):
    arg, seen = as_input(x, dtype)
    values, scales = program(dtype, x.shape[1], group, ue8m0, tokens).run(
        "quantize", arg)
    want_values, want_scales = fp8.act_quant(seen, group,
                                             "ue8m0" if ue8m0 else None)
    assert values.dtype == np.uint8 and values.shape == x.shape
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(scales.view(np.uint32),
                                  want_scales.view(np.uint32))
    return values, scales


def random_rows(rng, tokens, width, dtype):
    """Rows over many magnitudes (so that subnormal codes occur), f16 kept
    within its range."""
    x = rng.standard_normal((tokens, width))
    x *= np.exp2(rng.uniform(-20 if dtype != "f16" else -8, 8, (tokens, 1)))
    x[:, ::7] *= np.exp2(rng.uniform(-12, 0, (tokens, 1)))
    return x


@pytest.mark.parametrize("dtype", ["f32", "bf16", "f16"])
@pytest.mark.parametrize("ue8m0", [False, True])
@pytest.mark.parametrize("group", [128, 64, 32])
def test_random_bitwise(dtype, ue8m0, group):
    rng = np.random.default_rng([group, ue8m0, len(dtype)])
    for tokens in (1, 5, 33):
        check(random_rows(rng, tokens, 256, dtype), dtype, group, ue8m0)


def test_static_tokens_and_deepseek_width():
    rng = np.random.default_rng(7)
    check(random_rows(rng, 4, 7168, "bf16"), "bf16", 128, True, tokens="4")


def test_every_midpoint_rounds_to_even():
    # amax = 448 makes the scale exactly 1, so x / s is x: the group holds
    # every midpoint between adjacent positive codes, and their negatives.
    codes = np.arange(0x7F, dtype=np.uint8)
    points = fp8.e4m3fn_decode(codes).astype(np.float64)
    mids = ((points[:-1] + points[1:]) / 2).astype(F32)
    assert len(mids) == 126
    row = np.zeros(128, F32)
    row[:126], row[126] = mids, 448.0
    x = np.stack([row, -row])
    values, scales = check(x)
    assert (scales == 1.0).all()
    # Ties go to the even code of each pair.
    lower = codes[:-1]
    want = np.where(lower % 2 == 0, lower, lower + 1).astype(np.uint8)
    np.testing.assert_array_equal(values[0, :126], want)
    np.testing.assert_array_equal(values[1, :126], want | 0x80)
    assert values[0, 126] == 0x7E and values[1, 126] == 0xFE


def test_zero_groups_and_signed_zero():
    x = np.zeros((2, 256), F32)
    x[1, :128] = -0.0
    x[1, 128] = 3.0
    values, scales = check(x)
    floor = F32(F32(1e-4) / F32(448))
    assert scales[0, 0] == floor and scales[0, 1] == floor
    assert (values[0] == 0).all() and (values[1, :128] == 0x80).all()
    assert scales[1, 1] == F32(3.0) / F32(448) and values[1, 128] == 0x7E
    values, scales = check(x, ue8m0=True)
    assert scales[0, 0] == 2.0 ** -22


def test_nan_makes_the_group_nan():
    x = np.ones((1, 256), F32)
    x[0, 5] = np.nan
    values, scales = check(x)
    assert np.isnan(scales[0, 0]) and scales[0, 1] == F32(1.0) / F32(448)
    assert ((values[0, :128] & 0x7F) == 0x7F).all()


def test_nan_codes_keep_the_sign_of_x():
    """A NaN quotient takes x's sign (not the processor's NaN sign): a
    negative NaN, and inf / inf where a group holds an infinity."""
    x = np.ones((2, 128), F32)
    x[0, :4] = [np.nan, -1.0, 2.0, -0.0]
    x[0, 4] = -np.float32(np.nan)
    x[1, :3] = [np.inf, -np.inf, -3.0]
    values, scales = check(x)
    assert np.isnan(scales[0, 0]) and np.isposinf(scales[1, 0])
    assert list(values[0, :5]) == [0x7F, 0xFF, 0x7F, 0xFF, 0xFF]  # all NaN: s is
    assert list(values[1, :4]) == [0x7F, 0xFF, 0x80, 0x00]


def test_no_tokens():
    values, scales = program("bf16", 256, 128, False).run(
        "quantize", np.zeros((0, 256), np.uint16))
    assert values.shape == (0, 256) and scales.shape == (0, 2)
