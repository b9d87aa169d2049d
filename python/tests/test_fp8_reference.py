"""The FP8 (e4m3fn, DeepSeek-V3 block scaling) NumPy reference against
hand-derived values: every code, every rounding midpoint, the overflow
convention, act_quant on hand-computed groups, and the block-scaled GEMM
bit-exact against a scalar loop and within a derived bound of a float64
dequantise-then-matmul."""

import math

import numpy as np
import pytest

import fp8_reference as fp8

F32 = np.float32
F64 = np.float64
U8 = np.uint8


def bits_of(x):
    return np.asarray(x, F32).view(np.uint32)


def field_value(c):
    """Value of code c from its bit fields, in plain Python."""
    s, e, m = c >> 7, (c >> 3) & 0xF, c & 0x7
    if e == 0xF and m == 0x7:
        return math.nan
    mag = m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
    return -mag if s else mag


def enc(x):
    """Encode one value; returns a Python int."""
    return int(fp8.e4m3fn_encode(np.float32(x)))


def up(x):
    return np.nextafter(F32(x), F32(np.inf))


def down(x):
    return np.nextafter(F32(x), F32(-np.inf))


ALL = np.arange(256, dtype=U8)
VALUES = fp8.e4m3fn_decode(ALL)


# ---------------------------------------------------------------- decoding

def test_decode_every_code_matches_bit_fields():
    want = np.array([field_value(c) for c in range(256)], F32)
    assert VALUES.dtype == F32 and VALUES.shape == (256,)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(VALUES), nan)
    assert np.flatnonzero(nan).tolist() == [0x7F, 0xFF]
    # bitwise, so the sign of zero counts too
    assert np.array_equal(bits_of(VALUES[~nan]), bits_of(want[~nan]))


def test_decode_known_points():
    d = lambda c: fp8.e4m3fn_decode(np.array(c, U8))
    assert d(0x7E) == 448.0 and d(0xFE) == -448.0
    assert d(0x08) == 2.0 ** -6
    assert d(0x01) == 2.0 ** -9
    assert d(0x07) == 7 * 2.0 ** -9
    assert d(0x38) == 1.0 and d(0x39) == 1.125 and d(0x40) == 2.0
    assert d(0x00) == 0.0 and not np.signbit(d(0x00))
    assert d(0x80) == 0.0 and np.signbit(d(0x80))
    assert np.isnan(d(0x7F)) and np.isnan(d(0xFF))
    assert np.nanmax(VALUES) == 448.0 and np.nanmin(VALUES) == -448.0
    # the positive finite codes are strictly increasing with the code
    assert np.all(np.diff(VALUES[:0x7F]) > 0)
    # 2-D input keeps its shape
    assert fp8.e4m3fn_decode(np.array([[0x38, 0xB8]], U8)).tolist() == [[1.0, -1.0]]
    with pytest.raises(TypeError):
        fp8.e4m3fn_decode(np.array([1, 2], np.int32))


# ---------------------------------------------------------------- encoding

def test_encode_decode_roundtrip_every_code():
    finite = ~np.isnan(VALUES)
    assert np.array_equal(fp8.e4m3fn_encode(VALUES[finite]), ALL[finite])
    assert fp8.e4m3fn_encode(VALUES).dtype == U8


def test_midpoints_round_to_even_and_neighbours_round_to_nearest():
    # Between adjacent codes c, c+1 (subnormal, across 2^-6, normal, across
    # every binade): the midpoint goes to the code with even mantissa (even
    # code), one f32 ulp either side to the nearer code.
    for c in range(0x7E):
        lo, hi = F64(VALUES[c]), F64(VALUES[c + 1])
        mid = F32((lo + hi) / 2)
        assert F64(mid) == (lo + hi) / 2            # the midpoint is exact in f32
        even = c if c % 2 == 0 else c + 1
        assert enc(mid) == even, hex(c)
        assert enc(down(mid)) == c, hex(c)
        assert enc(up(mid)) == c + 1, hex(c)
        # negative side: the same code with the sign bit
        assert enc(-mid) == even | 0x80
        assert enc(-down(mid)) == c | 0x80
        assert enc(-up(mid)) == (c + 1) | 0x80


def test_subnormal_midpoints_by_hand():
    t = 2.0 ** -9
    assert enc(0.5 * t) == 0x00            # between 0 and 2^-9: to 0 (even)
    assert enc(up(0.5 * t)) == 0x01
    assert enc(-0.5 * t) == 0x80
    assert enc(1.5 * t) == 0x02            # 1.5 -> 2
    assert enc(2.5 * t) == 0x02            # 2.5 -> 2
    assert enc(3.5 * t) == 0x04
    assert enc(7.5 * t) == 0x08            # 7.5 * 2^-9 -> 2^-6, the smallest normal
    assert enc(down(7.5 * t)) == 0x07
    assert enc(2.0 ** -6 + 2.0 ** -10) == 0x08      # 1.000|1 x 2^-6: tie -> 0x08
    assert enc(2.0 ** -6 + 3 * 2.0 ** -10) == 0x0A  # 1.001|1 x 2^-6: tie -> 0x0A


def test_rounds_from_exact_f32_not_through_f16_or_bf16():
    # 1.0625 is the midpoint of 1.0 and 1.125; 1.0625 + 2^-20 is above it.
    # Through f16 (10 mantissa bits) it would first become 1.0625 and then
    # tie to 1.0; rounding the exact f32 gives 1.125.
    assert enc(1.0625 + 2.0 ** -20) == 0x39
    assert enc(1.0625 - 2.0 ** -20) == 0x38
    # 2^-10 (1 + 2^-13): through bf16 (7 mantissa bits) it would become the
    # tie 2^-10 and go to 0; exactly, it is above the midpoint.
    assert enc(2.0 ** -10 * (1 + 2.0 ** -13)) == 0x01
    # The input itself is converted to f32 first (documented): a float64 just
    # above the midpoint that rounds to the midpoint in f32 ties to even.
    assert fp8.e4m3fn_encode(np.float64(1.0625 + 2.0 ** -30)) == 0x38


def test_top_of_range_and_overflow_convention():
    # 448 = 0x7E; the would-be next value 480 is NaN, so the midpoint 464
    # ties to the even 0x7E and anything above it overflows to NaN (0x7F),
    # keeping the sign of the input.
    assert enc(448.0) == 0x7E
    assert enc(up(448.0)) == 0x7E
    assert enc(456.0) == 0x7E
    assert enc(down(464.0)) == 0x7E
    assert enc(464.0) == 0x7E
    assert enc(up(464.0)) == 0x7F
    for v in [472.0, 480.0, 1000.0, 65504.0, float(np.finfo(F32).max), math.inf]:
        assert enc(v) == 0x7F, v
        assert enc(-v) == 0xFF, v
    assert enc(-464.0) == 0xFE and enc(-up(464.0)) == 0xFF
    # below: 0x7C = 384, 0x7D = 416, 0x7E = 448; ties to the even code
    assert enc(400.0) == 0x7C and enc(up(400.0)) == 0x7D
    assert enc(432.0) == 0x7E and enc(down(432.0)) == 0x7D
    # NaN keeps its sign bit
    pos_nan = np.array(0x7FC00000, np.uint32).view(F32)
    neg_nan = np.array(0xFFC00000, np.uint32).view(F32)
    assert enc(pos_nan) == 0x7F and enc(neg_nan) == 0xFF
    assert enc(np.array(0x7F800001, np.uint32).view(F32)) == 0x7F    # signalling NaN


def test_zeros_and_underflow_keep_the_sign():
    assert enc(0.0) == 0x00
    assert enc(-0.0) == 0x80
    tiny = np.array(1, np.uint32).view(F32)        # smallest f32 subnormal
    assert enc(tiny) == 0x00 and enc(-tiny) == 0x80
    assert enc(1e-30) == 0x00 and enc(-1e-30) == 0x80


def brute_force_encode(x):
    """Nearest code by distance, ties to the even code, overflow past the
    464 midpoint (nearer to 480 than to 448) to NaN; x finite f32."""
    x = np.asarray(x, F32)
    a = np.abs(x).astype(F64)
    pos = np.append(VALUES[:0x7F].astype(F64), 480.0)
    hi = np.clip(np.searchsorted(pos, a), 0, 0x7F)
    lo = np.clip(hi - 1, 0, 0x7F)
    dlo, dhi = a - pos[lo], pos[hi] - a
    tie_pick = np.where(lo % 2 == 0, lo, hi)
    code = np.where(dhi < dlo, hi, np.where(dlo < dhi, lo, tie_pick))
    code = np.where(a >= 480, 0x7F, code).astype(U8)
    return code | np.where(np.signbit(x), U8(0x80), U8(0))


def test_encode_matches_brute_force_on_random_f32():
    rng = np.random.default_rng(1234)
    n = 60000
    exp = rng.integers(127 - 16, 127 + 10, n, dtype=np.uint32)   # ~2^-16 .. 2^9
    mant = rng.integers(0, 1 << 23, n, dtype=np.uint32)
    sign = rng.integers(0, 2, n, dtype=np.uint32) << 31
    x = (sign | exp << 23 | mant).view(F32)
    # and every midpoint with low mantissa bits perturbed by a few ulps
    mids = ((VALUES[:0x7E].astype(F64) + VALUES[1:0x7F]) / 2).astype(F32)
    near = (mids.view(np.uint32).astype(np.int64)[:, None] + np.arange(-3, 4)[None, :])
    near = near.astype(np.uint32).view(F32).ravel()
    x = np.concatenate([x, near, -near])
    assert np.array_equal(fp8.e4m3fn_encode(x), brute_force_encode(x))


# ---------------------------------------------------------- act_quant

def test_act_quant_hand_example():
    x = np.array([[1.0, 2.0, -4.0, 8.0]], F32)
    q, s = fp8.act_quant(x, group=4)
    assert s.dtype == F32 and s.shape == (1, 1)
    assert s[0, 0] == F32(8.0) / F32(448.0)
    # x / s = 56, 112, -224, 448 (to within f32 rounding, far from any tie)
    assert q.dtype == U8 and q.tolist() == [[0x66, 0x6E, 0xF6, 0x7E]]
    q, s = fp8.act_quant(x, group=4, scale_fmt="ue8m0")
    assert s[0, 0] == 2.0 ** -5                      # 1/56 rounded up
    # x / s = 32, 64, -128, 256, exactly
    assert q.tolist() == [[0x60, 0x68, 0xF0, 0x78]]


def test_act_quant_amax_448_gives_scale_one():
    rng = np.random.default_rng(7)
    x = rng.uniform(-400, 400, size=(3, 256)).astype(F32)
    x[:, 5] = 448.0
    x[:, 200] = -448.0
    q, s = fp8.act_quant(x)
    assert s.shape == (3, 2) and np.all(s == 1.0)
    assert np.array_equal(q, fp8.e4m3fn_encode(x))
    q2, s2 = fp8.act_quant(x, scale_fmt="ue8m0")      # 1.0 is a power of two: kept
    assert np.all(s2 == 1.0) and np.array_equal(q2, q)


def test_act_quant_zero_and_tiny_groups_clamp_amax():
    x = np.zeros((2, 256), F32)
    x[1, 128:] = 5e-5                                  # amax below the 1e-4 floor
    x[1, 0] = -0.0
    q, s = fp8.act_quant(x)
    floor = F32(1e-4) / F32(448.0)
    assert np.all(s == floor)
    assert np.all(q[0] == 0x00)
    assert q[1, 0] == 0x80 and np.all(q[1, 1:128] == 0x00)
    assert np.all(q[1, 128:] == fp8.e4m3fn_encode(F32(5e-5) / floor))
    assert fp8.e4m3fn_decode(q[1, 128:129])[0] == 224.0   # 5e-5 / (1e-4/448) ~ 224
    _, su = fp8.act_quant(x, scale_fmt="ue8m0")
    assert np.all(su == 2.0 ** -22)                    # 2.23e-7 -> 2^-22 = 2.38e-7


def test_act_quant_ue8m0_scales():
    rng = np.random.default_rng(11)
    x = (rng.normal(size=(16, 512)) * np.exp2(rng.integers(-20, 20, size=(16, 1)))).astype(F32)
    q, s = fp8.act_quant(x)
    qu, su = fp8.act_quant(x, scale_fmt="ue8m0")
    assert su.shape == s.shape == (16, 4)
    assert np.all(bits_of(su) & 0x7FFFFF == 0)          # powers of two
    assert np.all(su >= s) and np.all(su < 2 * s)
    # same as 2^ceil(log2 s) in float64 (exact enough for f32 inputs)
    assert np.array_equal(su, np.exp2(np.ceil(np.log2(s.astype(F64)))).astype(F32))
    dq = fp8.e4m3fn_decode(qu)
    assert not np.any(np.isnan(dq)) and np.max(np.abs(dq)) <= 448.0
    # exact power of two kept, one ulp above goes to the next one
    g = np.zeros((1, 128), F32)
    g[0, 0] = 56.0                                     # 56 / 448 = 2^-3 exactly
    assert fp8.act_quant(g)[1][0, 0] == 0.125
    assert fp8.act_quant(g, scale_fmt="ue8m0")[1][0, 0] == 0.125
    g[0, 0] = up(56.0)
    assert fp8.act_quant(g)[1][0, 0] > 0.125
    assert fp8.act_quant(g, scale_fmt="ue8m0")[1][0, 0] == 0.25


def test_act_quant_shapes_and_errors():
    x = np.ones((2, 3, 256), F32)
    q, s = fp8.act_quant(x)
    assert q.shape == (2, 3, 256) and s.shape == (2, 3, 2)
    q, s = fp8.act_quant(x, group=64)
    assert s.shape == (2, 3, 4)
    q, s = fp8.act_quant(np.ones(256, F64))             # 1-D, converted to f32
    assert q.shape == (256,) and s.shape == (2,) and s.dtype == F32
    with pytest.raises(ValueError):
        fp8.act_quant(np.ones((2, 200), F32))
    with pytest.raises(ValueError):
        fp8.act_quant(np.ones((2, 256), F32), scale_fmt="e8m0")


@pytest.mark.parametrize("scale_fmt", [None, "ue8m0"])
def test_act_quant_dequant_error_bound(scale_fmt):
    # y = fl(x/s); for a normal e4m3 result |r - y| <= 2^-4 |y| (half an ulp
    # of 3 mantissa bits), for a subnormal |r - y| <= 2^-10 (half of 2^-9).
    # So |r s - x| <= 2^-4 |x| + 2^-10 s, plus 2^-24 relative for the f32
    # division: a slack factor (1 + 2^-20) covers it.
    rng = np.random.default_rng(3)
    x = (rng.standard_t(3, size=(8, 1024)) * np.exp2(rng.integers(-10, 10, size=(8, 1)))).astype(F32)
    q, s = fp8.act_quant(x, scale_fmt=scale_fmt)
    se = np.repeat(s.astype(F64), 128, axis=-1)
    deq = fp8.e4m3fn_decode(q).astype(F64) * se
    err = np.abs(deq - x)
    bound = (2.0 ** -4 * np.abs(x.astype(F64)) + 2.0 ** -10 * se) * (1 + 2.0 ** -20)
    assert np.all(err <= bound)
    # the largest element of each group lands on (or very near) the top
    top = np.max(np.abs(fp8.e4m3fn_decode(q)).reshape(8, 8, 128), axis=-1)
    assert np.all(top <= 448.0) and np.all(top >= (448.0 if scale_fmt is None else 224.0) * 0.9)


# ---------------------------------------------------------- weights

def test_weight_dequant_partial_blocks():
    rng = np.random.default_rng(5)
    N, K = 200, 300
    bits = rng.integers(0, 256, size=(N, K)).astype(U8)
    bits[(bits & 0x7F) == 0x7F] = 0x38                 # no NaN codes
    scale_inv = rng.uniform(0.001, 3.0, size=(2, 3)).astype(F32)
    w = fp8.weight_dequant(bits, scale_inv)
    assert w.dtype == F32 and w.shape == (N, K)
    dec = fp8.e4m3fn_decode(bits)
    for i in range(2):
        for j in range(3):
            blk = (slice(i * 128, min(i * 128 + 128, N)), slice(j * 128, min(j * 128 + 128, K)))
            assert np.array_equal(w[blk], (dec[blk] * scale_inv[i, j]).astype(F32))
    assert w[199, 299] == dec[199, 299] * scale_inv[1, 2]
    assert w[127, 128] == dec[127, 128] * scale_inv[0, 1]
    with pytest.raises(ValueError):
        fp8.weight_dequant(bits, scale_inv[:, :2])


def test_weight_quant_roundtrip():
    rng = np.random.default_rng(6)
    N, K = 300, 130
    w = rng.normal(scale=0.02, size=(N, K)).astype(F32)
    w[256:, :] = 0.0                                    # an all-zero row of blocks
    bits, scale_inv = fp8.weight_quant(w)
    assert bits.shape == (N, K) and scale_inv.shape == (3, 2) and scale_inv.dtype == F32
    assert np.all(scale_inv[2] == F32(1e-4) / F32(448.0))
    assert np.all(bits[256:] == 0)
    # exact definition: per tile amax / 448
    assert scale_inv[1, 1] == F32(np.max(np.abs(w[128:256, 128:]))) / F32(448.0)
    # each tile's largest element encodes to +-448 exactly
    assert np.max(np.abs(fp8.e4m3fn_decode(bits[:128, :128]))) == 448.0
    wd = fp8.weight_dequant(bits, scale_inv).astype(F64)
    se = np.repeat(np.repeat(scale_inv.astype(F64), 128, 0), 128, 1)[:N, :K]
    assert np.all(np.abs(wd - w) <= (2.0 ** -4 * np.abs(w) + 2.0 ** -10 * se) * (1 + 2.0 ** -20))


# ---------------------------------------------------------- block-scaled GEMM

def quantise_rows(x, block=128):
    """act_quant for any K: pad with zeros (they do not change any amax)."""
    M, K = x.shape
    kp = -(-K // block) * block
    xp = np.zeros((M, kp), F32)
    xp[:, :K] = x
    q, s = fp8.act_quant(xp, group=block)
    return q[:, :K], s


def test_gemm_hand_example():
    q_x = np.full((1, 256), 0x38, U8)                  # 1.0
    q_w = np.full((2, 256), 0x40, U8)                  # 2.0
    q_w[1, :128] = 0xC0                                # -2.0
    s_x = np.array([[2.0, 4.0]], F32)
    s_w = np.array([[0.5, 0.25]], F32)
    y = fp8.block_scaled_gemm(q_x, s_x, q_w, s_w)
    # block 0: 128 * 2 * 2 * 0.5 = 256; block 1: 128 * 2 * 4 * 0.25 = 256
    assert y.dtype == F32 and y.tolist() == [[512.0, 0.0]]


def scalar_gemm(q_x, s_x, q_w, s_w, block=128):
    """The documented semantics element by element, in plain Python."""
    M, K = q_x.shape
    N = q_w.shape[0]
    dx, dw = fp8.e4m3fn_decode(q_x), fp8.e4m3fn_decode(q_w)
    y = np.zeros((M, N), F32)
    for m in range(M):
        for n in range(N):
            acc = F32(0)
            for b in range(-(-K // block)):
                ks = range(b * block, min(b * block + block, K))
                S = F32(math.fsum(float(dx[m, k]) * float(dw[n, k]) for k in ks))
                t = F32(F32(S * s_x[m, b]) * s_w[n // block, b])
                acc = F32(acc + t)
            y[m, n] = acc
    return y


def test_gemm_bit_exact_against_scalar_loop():
    rng = np.random.default_rng(8)
    M, N, K = 2, 130, 300
    q_x, s_x = quantise_rows(rng.normal(size=(M, K)).astype(F32))
    q_w, s_w = fp8.weight_quant(rng.normal(scale=0.05, size=(N, K)).astype(F32))
    s_w[1, :] *= F32(3.0)                              # make the N blocks differ
    y = fp8.block_scaled_gemm(q_x, s_x, q_w, s_w)
    assert np.array_equal(bits_of(y), bits_of(scalar_gemm(q_x, s_x, q_w, s_w)))


@pytest.mark.parametrize("M,N,K", [(7, 260, 300), (4, 128, 128), (3, 129, 511)])
def test_gemm_against_float64_dequant_matmul(M, N, K):
    # Tolerance. Per K block b the reference computes T_b = S_b s_x s_w with
    # S_b exact (see block_scaled_gemm) and then three f32 roundings (S_b,
    # times s_x, times s_w): relative error <= (1+u)^3 - 1 < 3.001u, u = 2^-24.
    # Summing nb terms in f32 from 0 adds <= (nb - 1) u sum_b |T_b| (first
    # order). So |y - y64| <= (nb + 2.01) u sum_b |T_b|, and the float64
    # reference itself is off by at most K 2^-52 sum_k |x_k w_k|.
    rng = np.random.default_rng(M * 1000 + K)
    x = (rng.normal(size=(M, K)) * np.exp2(rng.integers(-4, 4, size=(M, 1)))).astype(F32)
    w = rng.normal(scale=0.02, size=(N, K)).astype(F32)
    q_x, s_x = quantise_rows(x)
    q_w, s_w = fp8.weight_quant(w)
    y = fp8.block_scaled_gemm(q_x, s_x, q_w, s_w)
    assert y.dtype == F32 and y.shape == (M, N)

    nb = -(-K // 128)
    sxe = np.repeat(s_x.astype(F64), 128, axis=1)[:, :K]
    xd = fp8.e4m3fn_decode(q_x).astype(F64) * sxe      # exact in f64
    swe = np.repeat(np.repeat(s_w.astype(F64), 128, 0), 128, 1)[:N, :K]
    wd = fp8.e4m3fn_decode(q_w).astype(F64) * swe      # exact in f64: 4 + 24 bits
    y64 = xd @ wd.T
    dx, dw = fp8.e4m3fn_decode(q_x).astype(F64), fp8.e4m3fn_decode(q_w).astype(F64)
    sw_rows = np.repeat(s_w.astype(F64), 128, axis=0)[:N]
    absT = np.zeros((M, N))
    for b in range(nb):
        sl = slice(b * 128, min(b * 128 + 128, K))
        absT += np.abs(dx[:, sl] @ dw[:, sl].T) * s_x[:, b:b + 1] * sw_rows[None, :, b]
    u = 2.0 ** -24
    tol = (nb + 2.01) * u * absT + K * 2.0 ** -52 * (np.abs(xd) @ np.abs(wd).T)
    err = np.abs(y.astype(F64) - y64)
    assert np.all(err <= tol), float(np.max(err / np.maximum(tol, 1e-300)))
    # and the bound is meaningful: the result is not trivially exact or zero
    assert np.max(np.abs(y64)) > 0


def test_gemm_nan_code_propagates_and_shape_errors():
    q_x = np.full((2, 128), 0x38, U8)
    q_x[0, 3] = 0x7F
    q_w = np.full((3, 128), 0x38, U8)
    s_x = np.ones((2, 1), F32)
    s_w = np.ones((1, 1), F32)
    y = fp8.block_scaled_gemm(q_x, s_x, q_w, s_w)
    assert np.all(np.isnan(y[0])) and np.all(y[1] == 128.0)
    with pytest.raises(ValueError):
        fp8.block_scaled_gemm(q_x, np.ones((2, 2), F32), q_w, s_w)
    with pytest.raises(ValueError):
        fp8.block_scaled_gemm(q_x, s_x, q_w, np.ones((2, 1), F32))
    with pytest.raises(ValueError):
        fp8.block_scaled_gemm(q_x, s_x, q_w[:, :64], s_w)
