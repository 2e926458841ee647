"""Numba kernels for torch's uniform, integer and permutation draws; twin: `uniform_numpy.py`.

uniform: x = (word & (2**24 - 1)) * 2**-24 (float32) or (word64 & (2**53 - 1)) * 2**-53
(float64), then x * (to - from) + from, one FMA in torch's AVX2 build (`fused`), two roundings
in its portable build; a value equal to `to` becomes `from`. Words are drawn beforehand by
`mt19937.fill_words`; each value depends on its own word only, so the loops vectorise.
randperm: torch's forward Fisher-Yates, swap(i, i + word_i % (n - i)) for i < n - 1 (n < 2**32 / 20),
or its inside-out shuffle with 64-bit words for larger n; sequential by nature.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed._fma import fma
from minembed._prefetch import prefetch_row

MASK24 = np.uint32(0xFFFFFF)
MASK53 = np.uint64((1 << 53) - 1)
UNIT24 = np.float32(2.0**-24)
UNIT53 = 2.0**-53
# randperm prefetches the swap partner this many steps ahead.
_PREFETCH_AHEAD = 24


@njit(cache=True)
def uniform_f32(words, out, low, high, fused):
    """words (n,) uint32 -> out (n,) float32 uniform in [low, high); low, high float32; out may be words' memory."""
    span = high - low
    for i in range(out.size):
        x = np.float32(words[i] & MASK24) * UNIT24
        value = fma(x, span, low) if fused else x * span + low
        out[i] = low if value == high else value


@njit(cache=True)
def uniform_f64(words, out, low, high, fused):
    """words (n,) uint64 -> out (n,) float64 uniform in [low, high); low, high float64."""
    span = high - low
    for i in range(out.size):
        x = np.float64(words[i] & MASK53) * UNIT53
        value = fma(x, span, low) if fused else x * span + low
        out[i] = low if value == high else value


@njit(cache=True)
def shuffle_forward(words, out):
    """out (n,) int64 holding 0..n-1: swap(i, i + words[i] % (n - i)) for i in 0..n-2.

    The words are drawn beforehand, so the swap partner of step i + _PREFETCH_AHEAD is known
    now: asking for its cache line early overlaps the memory waits (1.4x at n = 10M; torch,
    drawing word by word, cannot). A prefetch changes no result, so the twin has none.
    """
    n = out.size
    rows = out.reshape((n, 1))  # the prefetch helper addresses rows of a 2-D table
    for i in range(n - 1):
        later = i + _PREFETCH_AHEAD
        if later < n - 1:
            prefetch_row(rows, later + np.int64(words[later] % np.uint32(n - later)))
        z = np.int64(words[i] % np.uint32(n - i))
        out[i], out[i + z] = out[i + z], out[i]


@njit(cache=True)
def shuffle_inside_out(words64, out):
    """out (n,) int64 <- inside-out shuffle: z = words64[i] % (i + 1); out[i] = out[z]; out[z] = i."""
    for i in range(out.size):
        z = np.int64(words64[i] % np.uint64(i + 1))
        out[i] = out[z]
        out[z] = i
