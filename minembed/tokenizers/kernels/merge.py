"""Numba kernel for byte-level BPE: merge the bytes of many pieces into token ids in one call.

The merge rule (tiktoken's, see SEMANTICS.md section 6): a piece starts as its single bytes;
repeatedly merge the adjacent pair whose concatenation has the lowest rank (ties -> the
leftmost pair) until no adjacent concatenation is a token. Every part is therefore always a
token, and "the rank of the concatenation" is a lookup in a pair table:

    (left id, right id) -> merged id      (the merged id *is* its rank)

stored as a hash table of packed int64 words, `pairs` (layout and hash: `minembed.tokenizers.merges`).
A lookup usually reads one slot. NumPy/pure-Python twin: `merge_numpy.py`.

Array contract (the wrapper in `minembed.tokenizers.merges` builds and checks these):
    data (B,) uint8           the bytes of all pieces, concatenated
    piece_offsets (P+1,) int64  piece p is data[piece_offsets[p]:piece_offsets[p+1]]
    byte_ranks (256,) int64     id of each single byte, -1 if that byte is not a token
    pairs (2 + S,) int64        the pair table (`merges.pair_table`)
    out_ids (B,) int64          written: the ids of all pieces, concatenated (-1: byte not a token)
    out_offsets (P+1,) int64    written: piece p's ids are out_ids[out_offsets[p]:out_offsets[p+1]]

Performance notes (2 shared cores; benchmarks/bench_encode.py and ad-hoc timings):
- War and Peace (3.2 MB) with gpt2 has 26,333 distinct pieces, of which 13,978 are not a token
  themselves; this kernel merged all of them in one call in about 14 ms (~1 us a piece, packing
  included) with the CSR pair table. The hash table now in its place (issue 15) merges the
  pieces that are not tokens (8 bytes on average) in 440-510 ns each instead of 1.25-1.32 us,
  for gpt2, cl100k_base and o200k_base alike (the CSR binary search in the huge rows of the
  single bytes missed the cache 2-3 times per lookup).
- On the `regex` path (custom patterns) end-to-end encode spends 60-70% of its time
  in `regex.findall`, about 0.5x tiktoken; the registered patterns therefore go through
  `encode.py`, which splits in Numba too and calls `bpe_encode_pieces` from this module
  (1.3-2.3x tiktoken).
- "x" * 1_000_000 (one 1 MB piece, o200k_base): 0.34-0.41 s here, tiktoken 0.46-0.56 s (load 2).
- Short pieces (the common case: English words are < 16 bytes) use a quadratic scan over a
  small array of parts, which beats any heap at that size.
- Long pieces (> _SMALL bytes) use a linked list of parts plus a binary min-heap keyed by
  rank * 2**32 + start, so "lowest rank, then leftmost" is just the smallest key. Stale heap
  entries are skipped lazily. O(n log n): "x" * 1_000_000 stays linear-ish (tiktoken #195).
- One call for all the pieces of a text: the per-call dispatch cost of Numba (a few us)
  would otherwise dominate. `nogil=True` lets `encode_batch` run two threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.tokenizers.merges import PAIR_HASH_MULTIPLIER, PAIR_HEADER, PAIR_ID_BITS, PAIR_ID_MASK

# Pieces up to this many bytes use the quadratic scan; longer ones the heap.
_SMALL = 64


@njit(cache=True, nogil=True)
def pair_rank(pairs, left, right):
    """The id of the token left+right, or -1 if that concatenation is not a token."""
    if left < 0 or right < 0:
        return -1
    shift = np.uint64(64 - pairs[0])
    if pairs[1] == 1:  # one word per slot: left << 42 | right << 21 | merged
        key = (left << PAIR_ID_BITS) | right
        at = PAIR_HEADER + np.int64((np.uint64(key) * np.uint64(PAIR_HASH_MULTIPLIER)) >> shift)
        while True:
            word = pairs[at]
            if word < 0:  # an empty slot: the pair is not in the table
                return -1
            if (word >> PAIR_ID_BITS) == key:
                return word & PAIR_ID_MASK
            at += 1
    key = (left << 32) | right  # two words per slot: the key, then the merged id
    at = PAIR_HEADER + 2 * np.int64((np.uint64(key) * np.uint64(PAIR_HASH_MULTIPLIER)) >> shift)
    while True:
        word = pairs[at]
        if word < 0:
            return -1
        if word == key:
            return pairs[at + 1]
        at += 2


@njit(cache=True, nogil=True)
def _merge_short(data, start, stop, byte_ranks, pairs, parts, ranks, out_ids, n_out):
    """Merge one short piece with a quadratic scan; append its ids to out_ids at n_out."""
    m = stop - start
    for i in range(m):
        parts[i] = byte_ranks[data[start + i]]
    for i in range(m - 1):
        ranks[i] = pair_rank(pairs, parts[i], parts[i + 1])
    while m > 1:
        best = -1
        at = -1
        for i in range(m - 1):
            r = ranks[i]
            # subtle: strict < keeps the leftmost pair among equal ranks.
            if r >= 0 and (best < 0 or r < best):
                best = r
                at = i
        if best < 0:
            break
        parts[at] = best
        for j in range(at + 1, m - 1):
            parts[j] = parts[j + 1]
        for j in range(at + 1, m - 2):
            ranks[j] = ranks[j + 1]
        m -= 1
        if at > 0:
            ranks[at - 1] = pair_rank(pairs, parts[at - 1], parts[at])
        if at < m - 1:
            ranks[at] = pair_rank(pairs, parts[at], parts[at + 1])
    for i in range(m):
        out_ids[n_out + i] = parts[i]
    return n_out + m


@njit(cache=True, nogil=True)
def _heap_push(heap, size, key):
    i = size
    heap[i] = key
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(heap, size):
    """Remove the smallest key (returned in heap[size - 1]); returns the new size."""
    size -= 1
    heap[0], heap[size] = heap[size], heap[0]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and heap[left + 1] < heap[left]:
            child = left + 1
        if heap[i] <= heap[child]:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child
    return size


@njit(cache=True, nogil=True)
def _merge_long(data, start, stop, byte_ranks, pairs, out_ids, n_out):
    """Merge one long piece with a linked list of parts and a min-heap of candidate merges."""
    n = stop - start
    token = np.empty(n, dtype=np.int64)  # id of the part that starts at byte i (if alive)
    nxt = np.empty(n, dtype=np.int64)  # start of the next part, or -1
    prv = np.empty(n, dtype=np.int64)  # start of the previous part, or -1
    rank = np.empty(n, dtype=np.int64)  # rank of (part at i) + (next part), or -1
    alive = np.ones(n, dtype=np.bool_)
    # Each merge pushes at most two entries, so n - 1 initial + 2 (n - 1) merges is enough.
    heap = np.empty(3 * n, dtype=np.int64)
    size = 0
    for i in range(n):
        token[i] = byte_ranks[data[start + i]]
        nxt[i] = i + 1 if i + 1 < n else -1
        prv[i] = i - 1
    for i in range(n - 1):
        r = pair_rank(pairs, token[i], token[i + 1])
        rank[i] = r
        if r >= 0:
            size = _heap_push(heap, size, (r << 32) | i)
    rank[n - 1] = -1
    while size > 0:
        size = _heap_pop(heap, size)
        key = heap[size]
        r = key >> 32
        i = key & 0xFFFFFFFF
        # subtle: skip entries made stale by earlier merges. An entry whose rank equals the
        # current rank at i names the same merged token, hence the same bytes: it is current.
        if not alive[i] or rank[i] != r:
            continue
        j = nxt[i]
        token[i] = r
        alive[j] = False
        k = nxt[j]
        nxt[i] = k
        if k >= 0:
            prv[k] = i
            rank[i] = pair_rank(pairs, r, token[k])
            if rank[i] >= 0:
                size = _heap_push(heap, size, (rank[i] << 32) | i)
        else:
            rank[i] = -1
        h = prv[i]
        if h >= 0:
            rank[h] = pair_rank(pairs, token[h], r)
            if rank[h] >= 0:
                size = _heap_push(heap, size, (rank[h] << 32) | h)
    i = 0
    while i >= 0:
        out_ids[n_out] = token[i]
        n_out += 1
        i = nxt[i]
    return n_out


@njit(cache=True, nogil=True)
def merge_piece(data, start, stop, byte_ranks, pairs, parts, ranks, out_ids, n_out):
    """BPE-merge data[start:stop] into out_ids from n_out; returns the new n_out.

    parts, ranks (_SMALL,) int64: scratch for short pieces (the caller allocates them once).
    """
    if stop - start <= _SMALL:
        return _merge_short(data, start, stop, byte_ranks, pairs, parts, ranks, out_ids, n_out)
    return _merge_long(data, start, stop, byte_ranks, pairs, out_ids, n_out)


@njit(cache=True, nogil=True)
def bpe_encode_pieces(data, piece_offsets, byte_ranks, pairs, out_ids, out_offsets):
    """BPE-merge every piece of `data`; see the module docstring for the array contract."""
    parts = np.empty(_SMALL, dtype=np.int64)
    ranks = np.empty(_SMALL, dtype=np.int64)
    n_out = 0
    out_offsets[0] = 0
    for p in range(piece_offsets.shape[0] - 1):
        start = piece_offsets[p]
        stop = piece_offsets[p + 1]
        if stop - start <= _SMALL:
            n_out = _merge_short(data, start, stop, byte_ranks, pairs, parts, ranks, out_ids, n_out)
        else:
            n_out = _merge_long(data, start, stop, byte_ranks, pairs, out_ids, n_out)
        out_offsets[p + 1] = n_out
