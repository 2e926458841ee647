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
def draw_negative(state, cum_table):
    """(a word index drawn from the count**0.75 distribution, the next state).

    cum_table (V,) uint32: cumulative, scaled to 2**31 - 1; the first entry >= the draw wins
    (bisect_left), as in gensim.
    """
    size = cum_table.shape[0]
    x = (state >> _SHIFT) % np.uint64(cum_table[size - 1])
    lo = 0
    hi = size
    while hi > lo:
        mid = (lo + hi) >> 1
        if np.uint64(cum_table[mid]) >= x:
            hi = mid
        else:
            lo = mid + 1
    return lo, advance(state)
