"""Numba kernels: the one hash of a piece's bytes, and the open-addressing slot table built from it.

Every table of pieces in minembed (the token table of the encoder, the pieces it has merged,
the piece counts of BPE training) hashes bytes with `piece_hash` and probes linearly from
`hash & (size - 1)`. Twin: `hash_numpy.py`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def piece_hash(data, lo, hi):
    """FNV-1a (64-bit, as int64) of data[lo:hi] (uint8), then mixed so that its low bits depend on every bit."""
    h = np.int64(-3750763034362895579)  # FNV offset basis, as int64; multiplies wrap
    for i in range(lo, hi):
        h = (h ^ np.int64(data[i])) * np.int64(1099511628211)
    # FNV's low k bits depend only on the low k bits of the bytes, and the tables use
    # h & mask: mix the high bits in (cheap insurance against clustered slots).
    h ^= h >> 32
    h *= np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15
    return h ^ (h >> 29)


@njit(cache=True)
def slot_table(hashes, n_entries, size):
    """(size,) int32: entries 0..n_entries-1 placed by their hashes (linear probing); -1 is empty.

    size is a power of two, larger than n_entries.
    """
    table = np.full(size, -1, dtype=np.int32)
    mask = size - 1
    for e in range(n_entries):
        s = hashes[e] & mask
        while table[s] != -1:
            s = (s + 1) & mask
        table[s] = e
    return table
