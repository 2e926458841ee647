"""Numba kernels turning uniform words into torch's normal values; twin: `normal_numpy.py`.

Three block transforms, each over blocks of 16 values (8 Box-Muller pairs: u1 = 1 - x[j],
u2 = x[j + 8] for j < 8), reading the words already drawn into the output's own memory:
- `normal_blocks_avx2_f32`: torch's AVX2 float32 kernel. Its log and sincos are the cephes
  polynomials of avx_mathfun.h in float32, and the compiler that built torch fused every
  multiply followed by an add into one FMA; `fma` below does the same, exactly.
- `normal_blocks_generic_f32`: torch's portable float32 template (libm logf/cosf/sinf, fmaf),
  what torch runs with ATEN_CPU_CAPABILITY=default.
- `normal_blocks_f64`: the float64 template (libm log/cos/sin, fma), the same in both modes.
Blocks are independent: `prange` hands whole blocks to threads, so no two threads write the
same value. `normal_serial` is the one-at-a-time double Box-Muller of small or strided tensors,
with the cached second value. `fastmath` stays off everywhere: results are compared bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from minembed._fma import bits_float32, float32_bits, fma
from minembed.random.kernels.mt19937 import fill_words64

F = np.float32
ONE = F(1.0)
HALF = F(0.5)
ZERO = F(0.0)
MINUS_TWO = F(-2.0)
TWO_PI_F32 = F(2.0 * math.pi)
TWO_PI = 2.0 * math.pi
SQRT_HALF = F(0.707106781186547524)
LOG_P = (F(7.0376836292e-2), F(-1.1514610310e-1), F(1.1676998740e-1), F(-1.2420140846e-1), F(1.4249322787e-1),
         F(-1.6668057665e-1), F(2.0000714765e-1), F(-2.4999993993e-1), F(3.3333331174e-1))  # fmt: skip
LOG_Q1 = F(-2.12194440e-4)
LOG_Q2 = F(0.693359375)
FOUR_OVER_PI = F(1.27323954473516)
MINUS_DP1 = F(-0.78515625)
MINUS_DP2 = F(-2.4187564849853515625e-4)
MINUS_DP3 = F(-3.77489497744594108e-8)
SIN_P0, SIN_P1, SIN_P2 = F(-1.9515295891e-4), F(8.3321608736e-3), F(-1.6666654611e-1)
COS_P0, COS_P1, COS_P2 = F(2.443315711809948e-005), F(-1.388731625493765e-003), F(4.166664568298827e-002)
UNIT24 = F(2.0**-24)
UNIT53 = 2.0**-53
MASK24 = np.uint32(0xFFFFFF)
MASK53 = np.uint64((1 << 53) - 1)
# Blocks of 16 per thread-private chunk of the float32 AVX2 transform.
_CHUNK_BLOCKS = 256


@njit(cache=True, inline="always")
def log_avx2(x):
    """avx_mathfun's log256_ps for one float32 x in (0, 1] (u1 never is 0 or denormal)."""
    bits = float32_bits(x)
    e = F((bits >> 23) - np.int32(126))  # as log256_ps: the exponent, for a mantissa in [0.5, 1)
    x = bits_float32((bits & np.int32(~0x7F800000)) | np.int32(0x3F000000))
    if x < SQRT_HALF:
        e = e - ONE
        x = (x - ONE) + x
    else:
        x = (x - ONE) + ZERO
    z = x * x
    y = LOG_P[0]
    y = fma(y, x, LOG_P[1])
    y = fma(y, x, LOG_P[2])
    y = fma(y, x, LOG_P[3])
    y = fma(y, x, LOG_P[4])
    y = fma(y, x, LOG_P[5])
    y = fma(y, x, LOG_P[6])
    y = fma(y, x, LOG_P[7])
    y = fma(y, x, LOG_P[8])
    y = y * x
    y = fma(y, z, e * LOG_Q1)
    y = fma(-z, HALF, y)
    return fma(e, LOG_Q2, x + y)


@njit(cache=True, inline="always")
def sincos_avx2(x):
    """avx_mathfun's sincos256_ps for one float32 x >= 0 -> (sin, cos)."""
    j = np.int32(x * FOUR_OVER_PI)  # truncation, as cvttps
    j = (j + np.int32(1)) & np.int32(-2)
    y = F(j)
    sin_negative = (j & 4) != 0
    use_sin_poly = (j & 2) == 0
    cos_negative = (~(j - np.int32(2)) & 4) != 0
    x = fma(y, MINUS_DP1, x)
    x = fma(y, MINUS_DP2, x)
    x = fma(y, MINUS_DP3, x)
    z = x * x
    c = fma(fma(COS_P0, z, COS_P1), z, COS_P2)
    c = fma(c * z, z, -(z * HALF)) + ONE
    s = fma(fma(SIN_P0, z, SIN_P1), z, SIN_P2)
    s = fma(s * z, x, x)
    # The vector code blends the two polynomials with masks and adds; mirrored op for op
    # (it matters for the sign of a zero).
    s_part = s if use_sin_poly else ZERO
    c_part = ZERO if use_sin_poly else c
    sin = c_part + s_part
    cos = (c - c_part) + (s - s_part)
    return (-sin if sin_negative else sin), (-cos if cos_negative else cos)


@njit(cache=True, inline="always")
def _uniform_f32(word):
    return F(word & MASK24) * UNIT24


@njit(cache=True, inline="always")
def _uniform_f64(word):
    return np.float64(word & MASK53) * UNIT53


@njit(cache=True)
def _avx2_pairs(u1, u2, cos_out, sin_out):
    """radius*cos(theta), radius*sin(theta) for each (u1, u2); separate arrays so that LLVM
    can vectorise the loop (8 float32 lanes, like torch's kernel)."""
    for k in range(u1.size):
        radius = math.sqrt(MINUS_TWO * log_avx2(u1[k]))
        sin, cos = sincos_avx2(TWO_PI_F32 * u2[k])
        cos_out[k] = radius * cos
        sin_out[k] = radius * sin


@njit(cache=True, parallel=True)
def normal_blocks_avx2_f32(words, out, mean, std):
    """words (16k,) uint32 -> out (16k,) float32, block by block; out may share words' memory.

    Threads take chunks of blocks; each chunk unpacks its uniforms into private buffers,
    transforms them in one vectorisable loop, and writes its own blocks back.
    """
    blocks = out.size // 16
    chunks = (blocks + _CHUNK_BLOCKS - 1) // _CHUNK_BLOCKS
    for chunk in prange(chunks):
        first = chunk * _CHUNK_BLOCKS
        count = min(blocks - first, _CHUNK_BLOCKS)
        u1 = np.empty(count * 8, dtype=np.float32)
        u2 = np.empty(count * 8, dtype=np.float32)
        for b in range(count):
            base = (first + b) * 16
            for j in range(8):
                u1[b * 8 + j] = ONE - _uniform_f32(words[base + j])
                u2[b * 8 + j] = _uniform_f32(words[base + j + 8])
        cos_part = np.empty(count * 8, dtype=np.float32)
        sin_part = np.empty(count * 8, dtype=np.float32)
        _avx2_pairs(u1, u2, cos_part, sin_part)
        for b in range(count):
            base = (first + b) * 16
            for j in range(8):
                out[base + j] = fma(cos_part[b * 8 + j], std, mean)
                out[base + j + 8] = fma(sin_part[b * 8 + j], std, mean)


@njit(cache=True, parallel=True)
def normal_blocks_generic_f32(words, out, mean, std):
    """As normal_blocks_avx2_f32 with libm's logf/cosf/sinf: torch's portable float32 template."""
    for block in prange(out.size // 16):
        base = block * 16
        for j in range(8):
            radius = math.sqrt(MINUS_TWO * math.log(ONE - _uniform_f32(words[base + j])))
            theta = F(
                TWO_PI * np.float64(_uniform_f32(words[base + j + 8]))
            )  # 2.0f * pi<double> * u2 is a double product
            out[base + j] = fma(radius * math.cos(theta), std, mean)
            out[base + j + 8] = fma(radius * math.sin(theta), std, mean)


@njit(cache=True, parallel=True)
def normal_blocks_f64(words, out, mean, std):
    """words (16k,) uint64 -> out (16k,) float64 with libm log/cos/sin; out may share words' memory."""
    for block in prange(out.size // 16):
        base = block * 16
        for j in range(8):
            radius = math.sqrt(-2.0 * math.log(1.0 - _uniform_f64(words[base + j])))
            theta = TWO_PI * _uniform_f64(words[base + j + 8])
            out[base + j] = fma(radius * math.cos(theta), std, mean)
            out[base + j + 8] = fma(radius * math.sin(theta), std, mean)


@njit(cache=True)
def normal_serial(key, cursor, cache, out, mean, std, fused):
    """Fill out (flat, float32 or float64) one double Box-Muller value at a time, in order.

    cache (2,) float64 = [has_value, value]: the generator's cached second value, used first
    and refilled as torch does. fused: mean + std*x as one FMA (torch's AVX2 build) or not.
    """
    pair = np.empty(2, dtype=np.uint64)
    for i in range(out.size):
        if cache[0] != 0.0:
            x = cache[1]
            cache[0] = 0.0
        else:
            fill_words64(key, cursor, pair)
            u1 = _uniform_f64(pair[0])
            u2 = _uniform_f64(pair[1])
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = TWO_PI * u1
            cache[0] = 1.0
            cache[1] = radius * math.sin(theta)
            x = radius * math.cos(theta)
        out[i] = fma(x, std, mean) if fused else x * std + mean
