"""Numba kernels: count the distinct pieces of UTF-8 text, split with a registered pattern.

Pieces go into an open-addressing hash table keyed by their bytes (`text.kernels.hash`);
distinct pieces are appended to a byte arena, so the result is already the flat layout the
merge loop of training wants: `arena[starts[p]:starts[p + 1]]` is piece p, seen `counts[p]`
times. The splitting is `text.kernels.split.split_chunk`, the matchers every stage uses.
Twin: `count_numpy.py` (the same signatures, `regex` and dicts).

Performance notes (2 shared cores, the ~100 MB corpus of benchmarks/bench_train.py):
splitting runs at about 150 MB/s per core and counting (hash + probe + compare) at about
130 MB/s, i.e. ~1.3 s of CPU for 100 MB, against ~9 s for `regex.findall` + `Counter`,
whose matching needs the GIL for every piece (threads did not help it). Batches are split
on two threads (nogil), each with its own table; the tables are merged at the end with
`add_pieces` itself. Splitting and hashing in one loop measured 2x slower than two tight
loops, hence the small buffer of piece ends in `count_pieces`.
Memory (300 MB of distinct text, 1.29M distinct pieces): two per-thread tables that each grew to
the whole corpus's pieces peaked at +177 MB over the warmed-up process; small per-thread tables
flushed into one shared table (`pretokenize.FLUSH_PIECES`) peak at about +135 MB.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.text.kernels.hash import piece_hash, slot_table
from minembed.text.kernels.split import split_chunk

_CHUNK = 4096  # pieces split before they are counted, in count_pieces


@njit(cache=True)
def _lookup(data, lo, hi, h, table, arena, starts, hashes):
    """(slot, piece id) of the piece data[lo:hi] with hash h; piece id -1 if absent (slot is free)."""
    mask = table.shape[0] - 1
    s = h & mask
    length = hi - lo
    while True:
        p = table[s]
        if p == -1:
            return s, p
        if hashes[p] == h and starts[p + 1] - starts[p] == length:
            a = starts[p]
            same = True
            for j in range(length):
                if arena[a + j] != data[lo + j]:
                    same = False
                    break
            if same:
                return s, p
        s = (s + 1) & mask


@njit(cache=True)
def _append(data, lo, hi, h, weight, slot, table, arena, starts, counts, hashes, n_pieces):
    """Add the new piece data[lo:hi] at `slot`, growing the arrays as needed; returns the state."""
    length = hi - lo
    if n_pieces + 2 > counts.shape[0]:
        size = 2 * counts.shape[0]
        grown = np.zeros(size, dtype=np.int64)
        grown[:n_pieces] = counts[:n_pieces]
        counts = grown
        grown = np.zeros(size, dtype=np.int64)
        grown[:n_pieces] = hashes[:n_pieces]
        hashes = grown
        grown = np.zeros(size + 1, dtype=np.int64)
        grown[: n_pieces + 1] = starts[: n_pieces + 1]
        starts = grown
    a = starts[n_pieces]
    if a + length > arena.shape[0]:
        grown_arena = np.empty(max(2 * arena.shape[0], a + length), dtype=np.uint8)
        grown_arena[:a] = arena[:a]
        arena = grown_arena
    arena[a : a + length] = data[lo:hi]
    starts[n_pieces + 1] = a + length
    counts[n_pieces] = weight
    hashes[n_pieces] = h
    table[slot] = n_pieces
    n_pieces += 1
    if 2 * n_pieces > table.shape[0]:
        table = slot_table(hashes, n_pieces, 2 * table.shape[0])
    return table, arena, starts, counts, hashes, n_pieces


@njit(cache=True, nogil=True)
def add_pieces(data, piece_ends, n_new, weights, table, arena, starts, counts, hashes, n_pieces):
    """Count the pieces data[piece_ends[k-1]:piece_ends[k]], k < n_new (the first starts at 0).

    Each adds `weights[k]` (or 1 when `weights` is empty) to its entry in the piece table:
    `table` (pow2,) int32 of piece ids, `arena` (A,) uint8 with piece p at
    arena[starts[p]:starts[p+1]], `counts` and `hashes` (P,) int64. Arrays grow as needed;
    returns the new (table, arena, starts, counts, hashes, n_pieces).
    """
    lo = 0
    for k in range(n_new):
        hi = piece_ends[k]
        w = weights[k] if weights.shape[0] > 0 else 1
        h = piece_hash(data, lo, hi)
        slot, p = _lookup(data, lo, hi, h, table, arena, starts, hashes)
        if p >= 0:
            counts[p] += w
        else:
            table, arena, starts, counts, hashes, n_pieces = _append(
                data, lo, hi, h, w, slot, table, arena, starts, counts, hashes, n_pieces
            )
        lo = hi
    return table, arena, starts, counts, hashes, n_pieces


@njit(cache=True, nogil=True)
def count_pieces(pattern, data, text_ends, classes, table, arena, starts, counts, hashes, n_pieces):
    """Split `data` with `pattern` (as `split_pieces`) and count its pieces, a few thousand at a time.

    Returns (table, arena, starts, counts, hashes, n_pieces, pieces seen in this call).
    """
    # subtle: one loop that splits AND hashes each piece ran 2x slower than two tight
    # loops (measured); a small buffer of piece ends keeps the loops apart at no memory cost.
    piece_ends = np.empty(_CHUNK, dtype=np.int64)
    no_weights = np.zeros(0, dtype=np.int64)
    seen = 0
    t = 0
    i = 0
    while t < text_ends.shape[0]:
        chunk_start = i  # pieces tile the data, so each chunk starts where the last one ended
        k = 0
        while k < _CHUNK and t < text_ends.shape[0]:
            end = text_ends[t]
            if i >= end:
                t += 1
                continue
            k += split_chunk(pattern, data, i, end, classes, piece_ends[k:], _CHUNK - k)
            i = piece_ends[k - 1]
        for p in range(k):
            piece_ends[p] -= chunk_start
        table, arena, starts, counts, hashes, n_pieces = add_pieces(
            data[chunk_start:], piece_ends, k, no_weights, table, arena, starts, counts, hashes, n_pieces
        )
        seen += k
    return table, arena, starts, counts, hashes, n_pieces, seen
