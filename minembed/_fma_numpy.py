"""Exactly rounded fused multiply-adds without hardware help (the twin of `_fma.py`).

float32 (vectorised): the product of two float32 is exact in float64 (24 + 24 bits <= 53).
The float64 sum p + c is rounded once, and rounding that to float32 again could round twice
the wrong way (a "double rounding") when the float64 sum lands exactly on a float32 halfway
point. Rounding the float64 sum *to odd* instead (keep it if exact, else make its last bit 1
by stepping one float64 ulp toward the exact value) removes the problem: with 53 >= 24 + 2
bits, round-to-odd then round-to-nearest equals one round-to-nearest of the exact value
(Boldo and Melquiond, "Emulation of FMA and correctly rounded sums", 2008). The error of
the sum is exact by Knuth's TwoSum.

float64 (scalar): exact rational arithmetic with `fractions.Fraction`, whose conversion to
float is correctly rounded. Slow, but obviously right; used only by the twins and tests.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def fma32(a, b, c) -> np.ndarray:
    """round_to_float32(a*b + c) with one rounding; a, b, c float32 (arrays or scalars)."""
    a64 = np.asarray(a, dtype=np.float32).astype(np.float64)
    b64 = np.asarray(b, dtype=np.float32).astype(np.float64)
    c64 = np.asarray(c, dtype=np.float32).astype(np.float64)
    product = a64 * b64  # exact
    total = product + c64
    # TwoSum: total + error == product + c64 exactly.
    back = total - product
    error = (product - (total - back)) + (c64 - back)
    inexact_and_even = (error != 0) & ((np.atleast_1d(total).view(np.int64) & 1) == 0).reshape(np.shape(total))
    toward = np.where(error > 0, np.inf, -np.inf)
    odd = np.where(inexact_and_even, np.nextafter(total, toward), total)
    return odd.astype(np.float32)


def fma64(a: float, b: float, c: float) -> float:
    """round(a*b + c) with one rounding, for finite Python floats."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def fma(a, b, c):
    """Dispatch on the dtype of a, like the Numba intrinsic."""
    if np.asarray(a).dtype == np.float32:
        return fma32(a, b, c)
    return fma64(float(a), float(b), float(c))
