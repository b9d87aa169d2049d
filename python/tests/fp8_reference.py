"""An independent, bit-exact NumPy reference of DeepSeek-V3's FP8 block
scaling (spec section 10), written as the test oracle for the CPU lowering and
the CUDA kernels. Only NumPy; vectorised (loops only over K blocks).

Format float8_e4m3fn ("e4m3fn"): 1 sign, 4 exponent (bias 7) and 3 mantissa
bits; no infinities; NaN is S.1111.111 (0x7F / 0xFF); largest finite 448
(0x7E); exponent field 0 is subnormal, value = m/8 * 2^-6 (smallest 2^-9).

Encoding convention (that of torch's `x.to(torch.float8_e4m3fn)` and of
ml_dtypes, i.e. *not* saturating):

* the input is converted to float32 first, then rounded once, to nearest
  with ties to even, from its exact f32 value (no rounding through f16/bf16);
* a finite |x| that rounds to <= 448 gives that code; ties to even include
  the top: 464 (midpoint of 448 and the would-be 480) gives 448 = 0x7E;
* a finite |x| that rounds above 448 (|x| > 464), +-inf and NaN all give
  NaN, with the sign bit of the input kept: 0x7F for positive, 0xFF for
  negative (so -inf, -1000 and a negative-signed NaN give 0xFF);
* the sign is always kept, so -0.0 and negative values that round to zero
  give 0x80.
"""

import numpy as np

F32 = np.float32
F64 = np.float64

E4M3_MAX = 448.0
NAN_CODE = 0x7F
BLOCK = 128


def _decode_table():
    """The 256 code values as float32, from the bit fields."""
    c = np.arange(256, dtype=np.int64)
    sign = np.where(c >> 7, -1.0, 1.0)
    e = (c >> 3) & 0xF
    m = c & 0x7
    mag = np.where(e == 0, np.ldexp(m.astype(F64), -9),
                   np.ldexp((8 + m).astype(F64), e - 10))
    val = sign * mag
    val[(e == 0xF) & (m == 0x7)] = np.nan
    return val.astype(F32)


_TABLE = _decode_table()
_TABLE.setflags(write=False)
# Values of the positive codes 0x00..0x7E, then 480 standing for 0x7F: the
# value the rounding reaches from above 464 (it is NaN in the format).
_POS = np.append(_TABLE[:NAN_CODE].astype(F64), 480.0)


def e4m3fn_decode(bits):
    """uint8 codes (any shape) -> their exact float32 values; 0x7F/0xFF are
    NaN, 0x80 is -0.0."""
    bits = np.asarray(bits)
    if bits.dtype != np.uint8:
        raise TypeError(f"expected uint8 codes, got {bits.dtype}")
    return _TABLE[bits]


def e4m3fn_encode(x):
    """Values (converted to float32) -> uint8 e4m3fn codes, rounding to
    nearest, ties to even, from the exact f32 value. Overflow (|x| > 464
    after conversion to f32), +-inf and NaN give NaN with the input's sign:
    0x7F or 0xFF. See the module docstring."""
    x = np.asarray(x, dtype=F32)
    sign = ((x.view(np.uint32) >> 24) & 0x80).astype(np.uint8)
    with np.errstate(invalid="ignore"):
        a = np.abs(x).astype(F64)
        small = a < 480.0          # False for NaN and inf
    a = np.where(small, a, 0.0)
    # a = f * 2^E with f in [0.5, 1), so floor(log2 a) = E - 1 (exact). The
    # e4m3fn exponent is clamped at -6 (the subnormal range), and the spacing
    # of codes with exponent e is 2^(e-3).
    _, E = np.frexp(a)
    e = np.maximum(E - 1, -6)
    quantum = np.ldexp(1.0, e - 3)
    # a / quantum is exact (power of two, a has 24 bits) and np.rint rounds
    # half to even; the even multiple is the code with even mantissa.
    r = np.rint(a / quantum) * quantum
    code = np.searchsorted(_POS, r).astype(np.uint8)   # r is always in _POS
    code = np.where(small, code, np.uint8(NAN_CODE))
    return (code | sign).astype(np.uint8)


def _round_up_pow2(s):
    """Exact 2^ceil(log2 s) for positive finite normal float32 s, from the
    bits: a power of two is kept, anything else goes to the next one (the
    largest binade goes to inf). Non-finite s is returned unchanged."""
    s = np.asarray(s, dtype=F32)
    b = s.view(np.uint32)
    up = (((b >> 23) + np.uint32(1)) << 23).astype(np.uint32)
    out = np.where((b & np.uint32(0x7FFFFF)) == 0, b, up).astype(np.uint32)
    return np.where(np.isfinite(s), out.view(F32), s).astype(F32)


def act_quant(x, group=BLOCK, scale_fmt=None):
    """Per-token, per-group activation quantisation, in float32.

    x [..., K] (converted to f32; K a multiple of `group`, else ValueError).
    Per group of `group` consecutive elements of the last dim:
      amax = max(max |x|, 1e-4);  s = amax / 448 (f32 division; a NaN
      s is the quiet NaN 0x7FC00000);
      scale_fmt "ue8m0": s = 2^ceil(log2 s), exactly (power of two kept);
      q = e4m3fn_encode(x / s)  (f32 division, round to nearest even; a
          NaN quotient takes the sign of x).
    Returns (q uint8 [..., K], s float32 [..., K/group])."""
    if scale_fmt not in (None, "ue8m0"):
        raise ValueError(f"scale_fmt must be None or 'ue8m0', got {scale_fmt!r}")
    x = np.asarray(x, dtype=F32)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    K = x.shape[-1]
    if group <= 0 or K % group:
        raise ValueError(f"last dim {K} is not a multiple of group {group}")
    g = x.reshape(x.shape[:-1] + (K // group, group))
    amax = np.max(np.abs(g), axis=-1)
    amax = np.maximum(amax, F32(1e-4)).astype(F32)
    s = (amax / F32(E4M3_MAX)).astype(F32)
    # A NaN scale is the quiet NaN 0x7FC00000, whatever the input's payload.
    s = np.where(np.isnan(s), np.uint32(0x7FC00000).view(F32), s).astype(F32)
    if scale_fmt == "ue8m0":
        s = _round_up_pow2(s)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = (g / s[..., None]).astype(F32)
    # A NaN quotient (x or s NaN, inf / inf) keeps x's sign, whatever sign
    # the processor gives the NaNs it makes.
    y = np.where(np.isnan(y), np.copysign(F32(np.nan), g), y).astype(F32)
    return e4m3fn_encode(y).reshape(x.shape), s


def _expand(scale, n, k, block):
    """Per-block scales [ceil(n/b), ceil(k/b)] -> per-element [n, k]."""
    return np.repeat(np.repeat(scale, block, axis=0), block, axis=1)[:n, :k]


def _check_block_scales(name, scale, n, k, block):
    want = (-(-n // block), -(-k // block))
    if scale.shape != want:
        raise ValueError(f"{name} has shape {scale.shape}, expected {want}")


def weight_dequant(bits, scale_inv, block=BLOCK):
    """W_f32[n, k] = decode(bits[n, k]) * scale_inv[n // block, k // block]
    (one f32 multiplication). bits uint8 [N, K], scale_inv float32
    [ceil(N/block), ceil(K/block)]; N, K need not be multiples of block."""
    bits = np.asarray(bits)
    scale_inv = np.asarray(scale_inv, dtype=F32)
    if bits.ndim != 2:
        raise ValueError("weight bits must be 2-D [N, K]")
    N, K = bits.shape
    _check_block_scales("scale_inv", scale_inv, N, K, block)
    return (e4m3fn_decode(bits) * _expand(scale_inv, N, K, block)).astype(F32)


def weight_quant(w, block=BLOCK):
    """Checkpoint-like quantisation of a float matrix [N, K] per block x block
    tile (last ones shorter), in f32: amax = max(max |w| over the tile, 1e-4)
    (the clamp keeps all-zero tiles finite, as in act_quant), scale_inv =
    amax / 448, bits = e4m3fn_encode(w / scale_inv). Returns (bits uint8
    [N, K], scale_inv float32 [ceil(N/block), ceil(K/block)])."""
    w = np.asarray(w, dtype=F32)
    if w.ndim != 2:
        raise ValueError("w must be 2-D [N, K]")
    N, K = w.shape
    nb, kb = -(-N // block), -(-K // block)
    padded = np.zeros((nb * block, kb * block), F32)
    padded[:N, :K] = np.abs(w)
    amax = padded.reshape(nb, block, kb, block).max(axis=(1, 3))
    amax = np.maximum(amax, F32(1e-4)).astype(F32)
    scale_inv = (amax / F32(E4M3_MAX)).astype(F32)
    y = (w / _expand(scale_inv, N, K, block)).astype(F32)
    return e4m3fn_encode(y), scale_inv


def block_scaled_gemm(q_x, s_x, q_w, s_w, block=BLOCK):
    """y = x W^T from block-scaled FP8 operands, returned as float32 [M, N].

    q_x uint8 [M, K] with s_x f32 [M, ceil(K/block)] (per row and K group);
    q_w uint8 [N, K] with s_w f32 [ceil(N/block), ceil(K/block)]. K need not
    be a multiple of block (the last block is shorter). For each K block b,
    in increasing b, with acc = 0 (f32):
      S   = sum_{k in b} decode(q_x[m,k]) * decode(q_w[n,k]), rounded to f32
            once. It is computed in f64, where it is EXACT in any order:
            every product is a multiple of 2^-18 below 448^2 < 2^18, so any
            partial sum of block = 2^7 of them needs < 43 bits (< 53 for
            any block < 2^17);
      t   = f32(f32(S * s_x[m, b]) * s_w[n // block, b])   (left to right);
      acc = f32(acc + t).
    NaN codes propagate to NaN."""
    q_x, q_w = np.asarray(q_x), np.asarray(q_w)
    s_x, s_w = np.asarray(s_x, dtype=F32), np.asarray(s_w, dtype=F32)
    if q_x.ndim != 2 or q_w.ndim != 2 or q_x.shape[1] != q_w.shape[1]:
        raise ValueError(f"shapes {q_x.shape} and {q_w.shape} do not match as [M, K], [N, K]")
    if not 0 < block < 1 << 17:
        raise ValueError("block must be in [1, 2^17) for an exact f64 block sum")
    M, K = q_x.shape
    N = q_w.shape[0]
    kb = -(-K // block)
    if s_x.shape != (M, kb):
        raise ValueError(f"s_x has shape {s_x.shape}, expected {(M, kb)}")
    _check_block_scales("s_w", s_w, N, K, block)
    dx = e4m3fn_decode(q_x).astype(F64)
    dw = e4m3fn_decode(q_w).astype(F64)
    acc = np.zeros((M, N), F32)
    for b in range(kb):
        sl = slice(b * block, min((b + 1) * block, K))
        S = (dx[:, sl] @ dw[:, sl].T).astype(F32)
        sw = np.repeat(s_w[:, b], block)[:N]
        t = ((S * s_x[:, b:b + 1]).astype(F32) * sw[None, :]).astype(F32)
        acc = (acc + t).astype(F32)
    return acc


def _libm_expf():
    """C's expf, element-wise on float32: the function the CPU lowering's
    math.exp calls, so that SiLU is bitwise the same on both sides."""
    import ctypes
    import ctypes.util
    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    libm.expf.restype = ctypes.c_float
    libm.expf.argtypes = [ctypes.c_float]
    ufunc = np.frompyfunc(lambda v: libm.expf(v), 1, 1)

    def expf(x):
        with np.errstate(over="ignore"):
            return ufunc(np.asarray(x, F32)).astype(F32)
    return expf


expf = _libm_expf()


def expert_ffn(q_rows, s_rows, offsets, q_gu, s_gu, q_d, s_d, round_out=None,
               scale_fmt=None, block=BLOCK):
    """The FP8 grouped SwiGLU FFN (moe.expert_ffn on e4m3 operands).

    q_rows uint8 [R, H] with s_rows [R, H/block]; offsets int [E+1] (None:
    one expert for every row, the shared expert); q_gu uint8 [E, 2I, H] with
    s_gu [E, 2I/block, H/block]; q_d uint8 [E, H, I] with s_d [E, H/block,
    I/block]. For each expert's rows (offsets clamped to [0, R]):
      [g | u] = block_scaled_gemm(rows, gate_up[e]);
      h = round_out(f32(g / f32(1 + expf(-g))) * u)  (each step in f32);
      (q_h, s_h) = act_quant(h, block, scale_fmt);
      y = round_out(block_scaled_gemm(q_h, s_h, down[e])).
    round_out maps f32 to the output type's values (as f32); None keeps f32.
    Rows no expert owns are zero. Returns float32 [R, H]."""
    round_out = round_out or (lambda v: np.asarray(v, F32))
    q_rows, s_rows = np.asarray(q_rows), np.asarray(s_rows, F32)
    R, H = q_rows.shape
    E, I2, _ = np.asarray(q_gu).shape
    I = I2 // 2
    out = np.zeros((R, H), F32)
    for e in range(E):
        if offsets is None:
            lo, hi = 0, R
        else:
            lo = min(max(int(offsets[e]), 0), R)
            hi = min(max(int(offsets[e + 1]), lo), R)
        if hi == lo:
            continue
        gu = block_scaled_gemm(q_rows[lo:hi], s_rows[lo:hi], q_gu[e], s_gu[e], block)
        g, u = gu[:, :I], gu[:, I:]
        with np.errstate(over="ignore", invalid="ignore"):
            silu = (g / (F32(1) + expf(-g))).astype(F32)
            h = round_out((silu * u).astype(F32))
        q_h, s_h = act_quant(h, block, scale_fmt)
        out[lo:hi] = round_out(block_scaled_gemm(q_h, s_h, q_d[e], s_d[e], block))
    return out
