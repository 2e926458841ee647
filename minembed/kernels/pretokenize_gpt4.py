"""Numba kernels: split UTF-8 text with the GPT-4 pattern and count the distinct pieces.

The pattern (rustbpe's default, `patterns.GPT4_SPLIT_PATTERN`) is a fixed alternation, so
it can be matched by hand, one alternative after another, exactly as a backtracking regex
engine tries them (the first alternative that matches wins, not the longest):

    1  '(?i:[sdmt]|ll|ve|re)         contractions
    2  [^\\r\\n\\p{L}\\p{N}]?+\\p{L}+     a word, with at most one leading non-letter (possessive)
    3  \\p{N}{1,3}                    up to three digits
    4   ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*     punctuation run, optional leading space, trailing newlines
    5  \\s*[\\r\\n]                     whitespace up to and including its last newline
    6  \\s+(?!\\S)                     whitespace not followed by a non-space (drops the last one)
    7  \\s+                           any other whitespace run

Every character is a letter, a number, a space or "other", so one of 2, 3, 4 or 7 always
matches and the pieces tile the text. Character classes come from a table (`classes`, one
uint8 per code point) that `minembed.tokenizers.pretokenize` builds with the `regex` module
itself, so this splitter agrees with `regex.findall` by construction and by test.
Twin: `pretokenize_gpt4_numpy.py` (the same signatures, using `regex.finditer`).

Counting: pieces go into an open-addressing hash table keyed by their bytes (FNV-1a hash);
distinct pieces are appended to a byte arena, so the result is already the flat layout the
merge kernel wants: `arena[starts[p]:starts[p + 1]]` is piece p, seen `counts[p]` times.

Performance notes (2 shared cores, the ~100 MB corpus of benchmarks/bench_train.py):
splitting runs at about 150 MB/s per core and counting (hash + probe + compare) at about
130 MB/s, i.e. ~1.3 s of CPU for 100 MB, against ~9 s for `regex.findall` + `Counter`,
whose matching needs the GIL for every piece (threads did not help it). Batches are split
on two threads (nogil), each with its own table; the tables are merged at the end with
`add_pieces` itself. Splitting and hashing in one loop measured 2x slower than two tight
loops, hence the small buffer of piece ends in `count_gpt4`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from minembed.tokenizers.char_classes import CONTRACTION_LETTERS, FOLD_SHIFT, LETTER, NUMBER, SPACE  # noqa: F401
_CHUNK = 4096  # pieces split before they are counted, in count_gpt4


@njit(cache=True, inline="always")
def _decode(data, i):
    """(code point, byte length) of the UTF-8 character that starts at data[i] (valid UTF-8)."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (
        ((b0 & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (np.int64(data[i + 3]) & 0x3F)
    ), 4


@njit(cache=True)
def _fold(data, i, end, classes):
    """The contraction-letter code (1..8) of the character at data[i], 0 if none or i == end."""
    if i >= end:
        return 0, 0
    cp, n = _decode(data, i)
    return classes[cp] >> FOLD_SHIFT, n


@njit(cache=True)
def _match_end(data, i, end, classes):
    """End (byte offset) of the GPT-4 pattern's match that starts at data[i]; text ends at `end`."""
    cp, n = _decode(data, i)
    cls = classes[cp]

    # 1: '(?i:[sdmt]|ll|ve|re)
    if cp == 39:
        code, n1 = _fold(data, i + 1, end, classes)
        if 1 <= code <= 4:
            return i + 1 + n1
        if code >= 5:
            code2, n2 = _fold(data, i + 1 + n1, end, classes)
            if (code == 5 and code2 == 5) or ((code == 6 or code == 8) and code2 == 7):
                return i + 1 + n1 + n2

    # 2: [^\r\n\p{L}\p{N}]?+\p{L}+  (the optional character is never given back)
    j = i
    if (cls & (LETTER | NUMBER)) == 0 and cp != 10 and cp != 13:
        j = i + n
    k = j
    while k < end:
        c, m = _decode(data, k)
        if (classes[c] & LETTER) == 0:
            break
        k += m
    if k > j:
        return k

    # 3: \p{N}{1,3}
    if cls & NUMBER:
        k = i
        for _ in range(3):
            if k >= end:
                break
            c, m = _decode(data, k)
            if (classes[c] & NUMBER) == 0:
                break
            k += m
        return k

    # 4:  ?[^\s\p{L}\p{N}]++[\r\n]*
    j = i + 1 if cp == 32 else i
    k = j
    while k < end:
        c, m = _decode(data, k)
        if classes[c] & (SPACE | LETTER | NUMBER):
            break
        k += m
    if k > j:
        while k < end and (data[k] == 10 or data[k] == 13):
            k += 1
        return k

    # 5, 6, 7 start with whitespace: scan the run once.
    k = i
    last_newline = -1
    last_start = i
    while k < end:
        c, m = _decode(data, k)
        if (classes[c] & SPACE) == 0:
            break
        if c == 10 or c == 13:
            last_newline = k
        last_start = k
        k += m
    if last_newline >= 0:  # 5: \s*[\r\n] -- greedy, so up to the LAST newline of the run
        return last_newline + 1
    if k == end:  # 6: at the end of the text nothing non-space follows
        return k
    if last_start > i:  # 6: give back the last space, which then precedes the \S
        return last_start
    if k > i:  # 7
        return k
    return i + n  # unreachable for valid class tables: every character matches 2, 3, 4 or 7


@njit(cache=True, nogil=True)
def split_gpt4(data, text_ends, classes, piece_ends):
    """Cut UTF-8 `data` (N,) uint8, a concatenation of texts ending at `text_ends` (K,) int64.

    Writes the end offset of every piece to `piece_ends` (>= N,) int64; returns how many.
    Pieces never cross a text end.
    """
    n_pieces = 0
    start = 0
    for t in range(text_ends.shape[0]):
        end = text_ends[t]
        i = start
        while i < end:
            i = _match_end(data, i, end, classes)
            piece_ends[n_pieces] = i
            n_pieces += 1
        start = end
    return n_pieces


@njit(cache=True)
def _hash(data, lo, hi):
    h = np.int64(-3750763034362895579)  # FNV-1a offset basis (as int64), wrapping multiplies
    for i in range(lo, hi):
        h = (h ^ np.int64(data[i])) * np.int64(1099511628211)
    return h


@njit(cache=True)
def _rehash(hashes, n_pieces, size):
    table = np.full(size, -1, dtype=np.int32)
    mask = size - 1
    for p in range(n_pieces):
        s = hashes[p] & mask
        while table[s] != -1:
            s = (s + 1) & mask
        table[s] = p
    return table


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
    arena[a:a + length] = data[lo:hi]
    starts[n_pieces + 1] = a + length
    counts[n_pieces] = weight
    hashes[n_pieces] = h
    table[slot] = n_pieces
    n_pieces += 1
    if 2 * n_pieces > table.shape[0]:
        table = _rehash(hashes, n_pieces, 2 * table.shape[0])
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
        h = _hash(data, lo, hi)
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
def count_gpt4(data, text_ends, classes, table, arena, starts, counts, hashes, n_pieces):
    """split_gpt4 then add_pieces, a few thousand pieces at a time: count every piece of `data`.

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
            i = _match_end(data, i, end, classes)
            piece_ends[k] = i - chunk_start
            k += 1
        table, arena, starts, counts, hashes, n_pieces = add_pieces(
            data[chunk_start:], piece_ends, k, no_weights, table, arena, starts, counts, hashes, n_pieces
        )
        seen += k
    return table, arena, starts, counts, hashes, n_pieces, seen
