"""NumPy twin of fast_exp.py: the same exp of float32, step for step, on whole arrays."""

from __future__ import annotations

import numpy as np

from minembed.nn.kernels.fast_exp import (
    LARGEST,
    LN2_HIGH,
    LN2_LOW,
    LOG2_E,
    Q0,
    Q1,
    Q2,
    Q3,
    Q4,
    ROUNDER,
    ROUNDER_BITS,
    SMALLEST,
)


def exp_float32(x: np.ndarray) -> np.ndarray:
    """exp of a float32 array, as fast_exp.exp_float32 computes it (without fused multiply-adds)."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        rounded = x * LOG2_E + ROUNDER
        n_float = rounded - ROUNDER
        n = rounded.view(np.int32) - ROUNDER_BITS
        r = (x - n_float * LN2_HIGH) - n_float * LN2_LOW
        exp_r = np.float32(1.0) + r + r * r * ((((Q4 * r + Q3) * r + Q2) * r + Q1) * r + Q0)
        powers = ((np.minimum(n, 127) + 127) << 23).astype(np.int32).view(np.float32)
        result = exp_r * powers
        result = np.where(n > 127, result * np.float32(2.0), result)
    result = np.where(x < SMALLEST, np.float32(0.0), result)
    return np.where(x > LARGEST, np.float32(np.inf), result).astype(np.float32)
