"""The readable twins of `hash`: the same signatures and results, in plain Python and NumPy."""

from __future__ import annotations

import numpy as np

_MASK64 = (1 << 64) - 1


def _signed(x: int) -> int:
    x &= _MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


def piece_hash(data: np.ndarray, lo: int, hi: int) -> int:
    """FNV-1a of data[lo:hi], then the kernel's mixing step, as a signed int64.

    >>> piece_hash(np.frombuffer(b"ab", np.uint8), 0, 2) == piece_hash(np.frombuffer(b"xab", np.uint8), 1, 3)
    True
    """
    h = 0xCBF29CE484222325
    for byte in bytes(data[lo:hi]):
        h = ((h ^ byte) * 0x100000001B3) & _MASK64
    h = _signed(h)
    h = _signed(h ^ (h >> 32))
    h = _signed(h * 0x9E3779B97F4A7C15)
    return _signed(h ^ (h >> 29))


def slot_table(hashes: np.ndarray, n_entries: int, size: int) -> np.ndarray:
    """(size,) int32 slots holding entries 0..n_entries-1 by their hashes (linear probing); -1 empty."""
    table = np.full(size, -1, dtype=np.int32)
    for e in range(n_entries):
        s = int(hashes[e]) & (size - 1)
        while table[s] != -1:
            s = (s + 1) & (size - 1)
        table[s] = e
    return table
