"""The readable twin of `uniform.py`: the same uniform transforms and shuffles in NumPy/Python."""

from __future__ import annotations

import numpy as np

from minembed._fma_numpy import fma32, fma64

UNIT24 = np.float32(2.0**-24)
UNIT53 = 2.0**-53


def uniform_f32(words, out, low, high, fused) -> None:
    """words (n,) uint32 -> out (n,) float32 uniform in [low, high); low, high float32."""
    low, high = np.float32(low), np.float32(high)
    span = high - low
    x = (words & np.uint32(0xFFFFFF)).astype(np.float32) * UNIT24
    value = fma32(x, span, low) if fused else x * span + low
    out[:] = np.where(value == high, low, value)


def uniform_f64(words, out, low, high, fused) -> None:
    """words (n,) uint64 -> out (n,) float64 uniform in [low, high); low, high float64."""
    span = float(high) - float(low)
    for i, word in enumerate(words.tolist()):
        x = (word & ((1 << 53) - 1)) * UNIT53
        value = fma64(x, span, float(low)) if fused else x * span + float(low)
        out[i] = low if value == high else value


def shuffle_forward(words, out) -> None:
    """out (n,) int64 holding 0..n-1: swap(i, i + words[i] % (n - i)) for i in 0..n-2."""
    n = out.size
    for i in range(n - 1):
        z = int(words[i]) % (n - i)
        out[i], out[i + z] = out[i + z], out[i]


def shuffle_inside_out(words64, out) -> None:
    """out (n,) int64 <- inside-out shuffle: z = words64[i] % (i + 1); out[i] = out[z]; out[z] = i."""
    for i in range(out.size):
        z = int(words64[i]) % (i + 1)
        out[i] = out[z]
        out[z] = i
