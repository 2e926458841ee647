"""The readable twin of `normal.py`: the same transforms in vectorised NumPy and plain Python.

float32 products and sums are rounded by NumPy's float32 arithmetic (one rounding each, as the
vector instructions do); each multiply-add that torch's compiled kernel fuses goes through the
exact `fma32` of `fma_numpy.py`. libm's float32 functions are called through ctypes, because
NumPy's own np.log/np.cos are different (SIMD) implementations.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from minembed._fma_numpy import fma32, fma64
from minembed.random.kernels.mt19937_numpy import fill_words64
from minembed.random.kernels.normal import (
    COS_P0,
    COS_P1,
    COS_P2,
    FOUR_OVER_PI,
    HALF,
    LOG_P,
    LOG_Q1,
    LOG_Q2,
    MINUS_DP1,
    MINUS_DP2,
    MINUS_DP3,
    MINUS_TWO,
    ONE,
    SIN_P0,
    SIN_P1,
    SIN_P2,
    SQRT_HALF,
    TWO_PI,
    TWO_PI_F32,
    UNIT24,
    UNIT53,
    ZERO,
)

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
for _name in ("logf", "cosf", "sinf"):
    getattr(_libm, _name).restype = ctypes.c_float
    getattr(_libm, _name).argtypes = [ctypes.c_float]


def _libm_f32(name: str, x: np.ndarray) -> np.ndarray:
    function = getattr(_libm, name)
    return np.array([function(float(v)) for v in x.ravel()], dtype=np.float32).reshape(x.shape)


def log_avx2(x: np.ndarray) -> np.ndarray:
    """avx_mathfun's log256_ps over a float32 array of values in (0, 1]."""
    mantissa, exponent = np.frexp(x)
    x = mantissa.astype(np.float32)
    e = exponent.astype(np.float32)
    small = x < SQRT_HALF
    e = e - np.where(small, ONE, ZERO)
    x = (x - ONE) + np.where(small, x, ZERO)
    z = x * x
    y = np.full_like(x, LOG_P[0])
    for coefficient in LOG_P[1:]:
        y = fma32(y, x, coefficient)
    y = y * x
    y = fma32(y, z, e * LOG_Q1)
    y = fma32(-z, HALF, y)
    return fma32(e, LOG_Q2, x + y)


def sincos_avx2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """avx_mathfun's sincos256_ps over a float32 array of values >= 0 -> (sin, cos)."""
    j = (x * FOUR_OVER_PI).astype(np.int32)
    j = (j + 1) & ~np.int32(1)
    y = j.astype(np.float32)
    sin_negative = (j & 4) != 0
    use_sin_poly = (j & 2) == 0
    cos_negative = (~(j - 2) & 4) != 0
    for minus_dp in (MINUS_DP1, MINUS_DP2, MINUS_DP3):
        x = fma32(y, minus_dp, x)
    z = x * x
    c = fma32(fma32(np.full_like(z, COS_P0), z, COS_P1), z, COS_P2)
    c = fma32(c * z, z, -(z * HALF)) + ONE
    s = fma32(fma32(np.full_like(z, SIN_P0), z, SIN_P1), z, SIN_P2)
    s = fma32(s * z, x, x)
    s_part = np.where(use_sin_poly, s, ZERO)
    c_part = np.where(use_sin_poly, ZERO, c)
    sin = c_part + s_part
    cos = (c - c_part) + (s - s_part)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)


def normal_blocks_avx2_f32(words: np.ndarray, out: np.ndarray, mean, std) -> None:
    """words (16k,) uint32 -> out (16k,) float32, block by block; out may share words' memory."""
    x = (words[: out.size // 16 * 16] & np.uint32(0xFFFFFF)).astype(np.float32) * UNIT24
    x = x.reshape(-1, 16)
    radius = np.sqrt(MINUS_TWO * log_avx2(ONE - x[:, :8]))
    sin, cos = sincos_avx2(TWO_PI_F32 * x[:, 8:])
    blocks = out[: x.size].reshape(-1, 16)
    blocks[:, :8] = fma32(radius * cos, std, mean)
    blocks[:, 8:] = fma32(radius * sin, std, mean)


def normal_blocks_generic_f32(words: np.ndarray, out: np.ndarray, mean, std) -> None:
    """As normal_blocks_avx2_f32 with libm's logf/cosf/sinf: torch's portable float32 template."""
    x = (words[: out.size // 16 * 16] & np.uint32(0xFFFFFF)).astype(np.float32) * UNIT24
    x = x.reshape(-1, 16)
    radius = np.sqrt(MINUS_TWO * _libm_f32("logf", ONE - x[:, :8]))
    theta = (TWO_PI * x[:, 8:].astype(np.float64)).astype(np.float32)
    blocks = out[: x.size].reshape(-1, 16)
    blocks[:, :8] = fma32(radius * _libm_f32("cosf", theta), std, mean)
    blocks[:, 8:] = fma32(radius * _libm_f32("sinf", theta), std, mean)


def normal_blocks_f64(words: np.ndarray, out: np.ndarray, mean, std) -> None:
    """words (16k,) uint64 -> out (16k,) float64 with libm log/cos/sin (Python's math module)."""
    size = out.size // 16 * 16
    x = (words[:size] & np.uint64((1 << 53) - 1)).astype(np.float64) * UNIT53
    for base in range(0, size, 16):
        block = x[base : base + 16].tolist()
        for j in range(8):
            radius = math.sqrt(-2.0 * math.log(1.0 - block[j]))
            theta = TWO_PI * block[j + 8]
            out[base + j] = fma64(radius * math.cos(theta), float(std), float(mean))
            out[base + j + 8] = fma64(radius * math.sin(theta), float(std), float(mean))


def normal_serial(key, cursor, cache, out, mean, std, fused) -> None:
    """Fill out (flat) one double Box-Muller value at a time; cache (2,) = [has_value, value]."""
    pair = np.empty(2, dtype=np.uint64)
    for i in range(out.size):
        if cache[0] != 0.0:
            x = float(cache[1])
            cache[0] = 0.0
        else:
            fill_words64(key, cursor, pair)
            u1 = int(pair[0] & np.uint64((1 << 53) - 1)) * UNIT53
            u2 = int(pair[1] & np.uint64((1 << 53) - 1)) * UNIT53
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = TWO_PI * u1
            cache[0] = 1.0
            cache[1] = radius * math.sin(theta)
            x = radius * math.cos(theta)
        out[i] = fma64(x, float(std), float(mean)) if fused else x * float(std) + float(mean)
