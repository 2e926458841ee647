"""word2vec.c's random draws, as Numba helpers shared by the batch kernels (twin: draws_numpy.py).

State: a 48-bit LCG, next = next * 25214903917 + 11 (mod 2**48); a draw uses its bits 16..47
and then advances the state, as gensim's random_int32 does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.word2vec.kernels.tables import LCG_INCREMENT, LCG_MASK, LCG_MULTIPLIER

_SHIFT = np.uint64(16)


@njit(nogil=True, cache=True, inline="always")
def advance(state):
    return (state * LCG_MULTIPLIER + LCG_INCREMENT) & LCG_MASK


@njit(nogil=True, cache=True, inline="always")
def draw_below(state, bound):
    """(a number in [0, bound), the next state): (state >> 16) % bound."""
    return (state >> _SHIFT) % np.uint64(bound), advance(state)


@njit(nogil=True, cache=True, inline="always")
def window_around(state, i, window, shrink_windows, context_start, context_stop):
    """(first, last, next state): the context positions [first, last) of centre i (i itself included).

    With shrink_windows the window is reduced by a draw b in [0, window), as word2vec.c does;
    it never reaches outside [context_start, context_stop) (the segment's sentence).
    """
    reduced = np.int64(0)
    if shrink_windows:
        drawn, state = draw_below(state, window)
        reduced = np.int64(drawn)
    return max(context_start, i - window + reduced), min(context_stop, i + window + 1 - reduced), state


@njit(nogil=True, cache=True, inline="always")
def draw_negative(state, cum_table, guide, guide_shift):
    """(a word index drawn from the count**0.75 distribution, the next state).

    cum_table (V,) uint32: cumulative, scaled to 2**31 - 1; the first entry >= the draw x wins
    (bisect_left), as in gensim. guide (M + 1,) int64 (vocab.negative_guide): the bisect_left of
    each bucket start b << guide_shift, so the search only runs inside x's bucket (usually a
    step or two instead of log2(V) unpredictable branches); the answer is the same.
    """
    size = cum_table.shape[0]
    x = (state >> _SHIFT) % np.uint64(cum_table[size - 1])
    bucket = x >> np.uint64(guide_shift)
    lo = guide[bucket]
    hi = min(guide[bucket + 1] + 1, size)
    while hi > lo:
        mid = (lo + hi) >> 1
        if np.uint64(cum_table[mid]) >= x:
            hi = mid
        else:
            lo = mid + 1
    return lo, advance(state)
