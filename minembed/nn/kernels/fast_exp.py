"""exp(x) for float32 in plain arithmetic, so that LLVM vectorises the loops that call it (twin: fast_exp_numpy.py).

A loop that calls math.exp runs one scalar libm call per element: Numba has no SIMD exp without
Intel's SVML. This exp is written as a few multiplies and adds, which LLVM turns into SIMD code
inside the caller's loop (about 0.35 ns per element here, NumPy's np.exp 0.5-0.6):

    exp(x) = 2**n * exp(r),   n = round(x / ln 2),   r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2]

  * n: x / ln 2 plus 1.5 * 2**23 rounds to an integer in float32, whose low bits then hold n;
  * r: ln 2 split in two (Cody and Waite), so n * LN2_HIGH is exact and r keeps its low bits;
  * exp(r) = 1 + r + r**2 q(r), q of degree 4: a least-squares fit of (exp(r) - 1 - r) / r**2,
    weighted to give relative error, on 400 Chebyshev nodes of the interval;
  * 2**n: n + 127 in the exponent bits of a float32 (the bit casts of minembed._fma).

Accuracy: within 1 ulp of exp correctly rounded to float32 where the result is normal, on the
points tests/test_fast_exp.py checks (4 million evenly spaced over that range, and every 101st
float32 in [-1, 1]). Below ln(FLT_MIN) = -87.34, where exp(x) is
subnormal (< 1.2e-38), it returns 0, and above ln(FLT_MAX) = 88.72 inf. The polynomial's
multiply-adds may fuse (fastmath "contract" only), which keeps them within the 1 ulp.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed._fma import bits_float32, float32_bits

LOG2_E = np.float32(1.4426950408889634)  # 1 / ln 2
LN2_HIGH = np.float32(0.693359375)  # ln 2 to 9 bits: n * LN2_HIGH is exact for |n| < 2**15
LN2_LOW = np.float32(-2.1219444e-4)  # ln 2 - LN2_HIGH
ROUNDER = np.float32(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer, held in the low mantissa bits
ROUNDER_BITS = np.int32(0x4B400000)  # ROUNDER's bit pattern; subtracting it leaves the integer
Q0, Q1, Q2, Q3, Q4 = (
    np.float32(0.49999988079071045),
    np.float32(0.166665181517601),
    np.float32(0.04166953265666962),
    np.float32(0.008368915878236294),
    np.float32(0.0013751407386735082),
)
SMALLEST = np.float32(-87.33654)  # ln(FLT_MIN): below it, exp(x) is subnormal; 0 is returned
LARGEST = np.float32(88.72284)  # ln(FLT_MAX): above it, exp(x) overflows to inf


@njit(cache=True, nogil=True, fastmath={"contract"})
def exp_float32(x):
    """exp(x) of a float32 x: within 1 ulp for normal results, 0 below -87.34, inf above 88.72, nan for nan."""
    rounded = x * LOG2_E + ROUNDER
    n_float = rounded - ROUNDER
    n = float32_bits(rounded) - ROUNDER_BITS
    r = (x - n_float * LN2_HIGH) - n_float * LN2_LOW
    exp_r = np.float32(1.0) + r + r * r * ((((Q4 * r + Q3) * r + Q2) * r + Q1) * r + Q0)
    # 2**n with n <= 127 in the exponent field; exp(x) near FLT_MAX has n = 128, so it takes a second 2
    result = exp_r * bits_float32((min(n, 127) + 127) << 23)
    if n > 127:
        result *= np.float32(2.0)
    if x < SMALLEST:
        result = np.float32(0.0)
    if x > LARGEST:
        result = np.float32(np.inf)
    return result
