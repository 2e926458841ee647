"""Numba kernels: encode UTF-8 text to token ids in one call -- split, look up, BPE-merge.

tiktoken's rule per piece of the split pattern: a piece that is itself a token is that
token; any other piece is BPE-merged from its bytes (`merge.py`). Here the pieces come
from the hand-written matchers of `minembed.text.kernels.split`, so no Python object is made per
piece. The text is split 4096 pieces at a time; each piece is looked up in a hash table of
the token bytes; the others are looked up in `seen`, a table of the pieces already merged
in this call, and only the new ones are merged, by `bpe.bpe_encode_pieces`, in one call per
chunk. Then the ids are written in text order.

The token table (built once per encoding by `build_token_table`):
    arena (A,) uint8, starts (T+1,) int64   token t's bytes are arena[starts[t]:starts[t+1]]
    ranks (T,) int64                         token t's id
    hashes (T,) int64                        `piece_hash` of token t's bytes
    slots (S,) int32, S a power of two       open addressing, linear probing; -1 is empty
`seen` has the same layout (bytes, starts, hashes, slots) plus the merged ids of each entry.
Twin: `encode_numpy.py` (regex, dicts and the pure-Python merge).

Performance notes (2 shared cores; War and Peace, 3.2 MB, gpt2: 726k pieces, 47k of them not
tokens, 14k distinct): split 17 ms, token lookups 14 ms, `seen` 2 ms, merging the 14k
distinct pieces 12 ms (about 6 ms since the pair table is a hash table: 0.44-0.51 us a piece,
issue 15), writing ids 2 ms; then `tolist()` in the wrapper 15 ms. End to end
that is 1.2-2.5x tiktoken's encode_ordinary on the shared corpora, single-threaded (the
regex engine: 0.2-0.6x).
- A one-byte piece that is a token skips the token table (`byte_ranks`; see the short-text notes).
- Merging each distinct piece once per call (`seen`) cut the merge time by 3x here; there is
  no cache across calls, so there is no state to share between threads.
- subtle: no array may be reassigned inside a hot loop -- `_find_or_add_seen` growing its
  arrays in its loop ran 15x slower, even on iterations that grew nothing; `_reserve_seen`
  makes room for a whole chunk first.
- Loops live in plain `@njit` functions called once per chunk (a call costs nothing at that
  rate); small loop-free helpers are plain functions too.
- Ids are written as uint32 (tiktoken's `encode_to_numpy` dtype); one `tolist()` in the
  wrapper is cheaper than any per-piece Python work. int64 ids would not make `tolist()`
  cheaper end to end (1.6 MB, o200k: 58.7-61.0 ms for uint32, 59.0-60.5 ms for int64).
- `nogil=True`: `NumbaEncoder.encode_many` runs parts of a batch on two threads (see there).

Short texts (issue 15; 2 shared cores, so only ratios from one run count). A loop of encode_ordinary
over single lines (~50 B) first ran at 0.36x tiktoken, and the kernel's work was the small part:
Numba's dispatcher types every argument on every call (15 for `encode_texts`; no-op kernels: each
array argument costs about as much as two integer ones, a read-only array more), `NumbaEncoder.encode`
made five NumPy arrays in Python, and the kernel allocated its `seen` table even for a single piece.
`encode_one` therefore:
- takes 3 arguments: the text as `bytes` (Numba reads it as a read-only buffer: no `np.frombuffer`,
  which cost ~0.5 us with a dtype keyword), one writable uint8 blob holding every table (the packed
  int64 tables of TABLE_SECTIONS, then the character classes, then the token bytes; viewed and sliced
  inside), and a scratch array that each thread keeps (threading.local in `NumbaEncoder`): the ids at
  its front, the piece ends after them, the merge scratch at its back, so nothing is allocated;
- returns one int (how many ids), and writes the count of the last piece's ids to scratch[-1];
- has no `seen` table: a short text rarely repeats a non-token piece, so merging each where it occurs
  is cheaper than the table (texts above `fast_encode.SHORT_TEXT_BYTES` keep `encode_texts`).
Where a line's time goes (o200k_base, War and Peace's first half, 31k lines of ~51 B, us per line,
one process, medians of 7 rounds at load 1-2): inside one @njit loop over all lines, splitting 0.6,
token lookups 0.5-0.7, merging the ~0.8 pieces per line that are not tokens 0.7 (1.4-1.6 with the
CSR pair table that `merges.pair_table` replaced); then the dispatch of a 3-argument call ~0.4-0.6
and the Python around it (`str.encode`, slicing a memoryview of the scratch, `tolist()`) ~0.5. gpt2
and cl100k_base spend the same. The splitter is bound by branches whose outcome depends on the text
(an ASCII fast path for the o200k letter classes gained <= 5%, within the noise, and was dropped);
a table keyed by the packed bytes of pieces up to 7 bytes (one slot read, no FNV loop) was slower
than `_probe` (1.3-1.4x the time), so the lookup stays as it is.
A piece of one byte that is a token (13-20% of the pieces: spaces, punctuation, newlines) takes its
id from `byte_ranks`, skipping the hash and the probe: 1-10% per call in 11 of 12 side-by-side
comparisons (lines and paragraphs, gpt2 and o200k, three runs).
End to end (tiktoken's time / ours, medians of 9 alternating rounds in one process, two runs at load
0.9-1.0, the commit before these changes run in between; tiktoken's own times moved by up to 2x
between processes): lines gpt2 1.38-1.61x, cl100k 1.67-1.68x, o200k 1.14-1.21x (before: 0.80-0.84x,
0.94-1.05x, 0.62-0.65x); paragraphs 2.02-2.08x, 2.34-2.42x, 1.31-1.52x (before: 1.21-1.54x,
1.20-1.36x, 0.89-0.95x); whole file 2.22-2.65x, 2.98-3.26x, 1.93-1.98x (before: 2.02-2.41x,
2.09-2.38x, 1.52-1.61x). tiktoken itself is fastest on o200k per call, which is why o200k's ratios
are the lowest; the lead's quiet-machine figures decide.
The fixed cost of a call (o200k, min of 15 rounds of 30k calls): a no-op @njit with the same three
arguments 425 ns, plus the views of the blob 555 ns, `encode_one` on an empty text 735 ns (the table
sections and scratch slices), on "Hello" 835 ns. Calling the compiled overload without the dispatcher
would need Numba internals (`Dispatcher.overloads`), which the project does not use.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.text.classes import N_CODE_POINTS
from minembed.text.kernels.hash import piece_hash, slot_table
from minembed.text.kernels.split import split_chunk
from minembed.tokenizers.kernels.merge import _SMALL, bpe_encode_pieces, merge_piece

_CHUNK = 4096  # pieces split before they are looked up
SCRATCH_PER_MERGE = _SMALL  # `encode_one` keeps two arrays of this many int64 at the back of its scratch
_MAX_SEEN = 1 << 16  # distinct merged pieces remembered within one call (then forgotten)

# `encode_one` takes every table packed into one int64 array, so that a call types few
# arguments (the dispatcher types every argument on every call; see the performance notes).
# tables[0] is the pattern id; section k is tables[tables[1 + k]:tables[2 + k]], in this order:
TABLE_SECTIONS = ("slots", "starts", "ranks", "hashes", "byte_ranks", "pairs")
# After the sections, tables[1 + len(TABLE_SECTIONS)] is the length of the whole packed array.
# `encode_one` reads it from the front of a uint8 blob: the packed tables' bytes, the character
# classes (N_CODE_POINTS uint16), then the token bytes -- one array argument instead of three
# (`fast_encode.pack_blob`).
_N_SECTIONS = len(TABLE_SECTIONS)


@njit(cache=True)
def build_token_table(arena, starts, slots):
    """Fill `slots` (S,) int32 (all -1, S a power of two >= 2 T) with the T tokens; returns hashes (T,) int64."""
    n_tokens = starts.shape[0] - 1
    hashes = np.empty(n_tokens, dtype=np.int64)
    mask = slots.shape[0] - 1
    for t in range(n_tokens):
        h = piece_hash(arena, starts[t], starts[t + 1])
        hashes[t] = h
        s = h & mask
        while slots[s] != -1:
            s = (s + 1) & mask
        slots[s] = t
    return hashes


@njit(cache=True, nogil=True)
def token_rank(data, lo, hi, slots, arena, starts, ranks, hashes):
    """The id of the token whose bytes are data[lo:hi], or -1 if they are not a token."""
    t = _probe(data, lo, hi, piece_hash(data, lo, hi), slots, arena, starts, hashes)
    return ranks[t] if t >= 0 else -1


@njit(cache=True, inline="always")
def _probe(data, lo, hi, h, slots, keys, key_starts, key_hashes):
    """The entry e whose bytes keys[key_starts[e]:key_starts[e+1]] equal data[lo:hi] (hash h), or -1."""
    mask = slots.shape[0] - 1
    s = h & mask
    while True:
        e = slots[s]
        if e == -1:
            return -1
        if key_hashes[e] == h and key_starts[e + 1] - key_starts[e] == hi - lo:
            a = key_starts[e] - lo
            same = True
            for j in range(lo, hi):
                if keys[a + j] != data[j]:
                    same = False
                    break
            if same:
                return e
        s = (s + 1) & mask


@njit(cache=True, nogil=True)
def _look_up_tokens(
    data, lo, piece_ends, n_pieces, slots, arena, starts, ranks, hashes, byte_ranks, piece_ids, piece_hashes
):
    """piece_ids[p] = the id of piece p if it is a token, else -1; piece_hashes[p] = its hash (if it is not)."""
    for p in range(n_pieces):
        hi = piece_ends[p]
        if hi - lo == 1 and byte_ranks[data[lo]] >= 0:  # 13-20% of the pieces: skip the hash and the probe
            piece_ids[p] = byte_ranks[data[lo]]
            lo = hi
            continue
        h = piece_hash(data, lo, hi)
        piece_hashes[p] = h
        t = _probe(data, lo, hi, h, slots, arena, starts, hashes)
        piece_ids[p] = ranks[t] if t >= 0 else -1
        lo = hi


@njit(cache=True)
def _grown(a, need):
    """A copy of `a` with room for at least `need` items (at least doubled), the old items kept."""
    out = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _reserve_seen(n_new, n_new_bytes, seen_slots, seen_bytes, seen_starts, seen_hashes, seen_id_starts, n_seen):
    """The `seen` arrays, grown (if needed) so that n_new more entries of n_new_bytes fit."""
    if n_seen + n_new + 2 > seen_hashes.shape[0]:
        seen_hashes = _grown(seen_hashes, n_seen + n_new + 2)
        seen_starts = _grown(seen_starts, n_seen + n_new + 3)
        seen_id_starts = _grown(seen_id_starts, n_seen + n_new + 3)
    if seen_starts[n_seen] + n_new_bytes > seen_bytes.shape[0]:
        seen_bytes = _grown(seen_bytes, seen_starts[n_seen] + n_new_bytes)
    size = seen_slots.shape[0]
    while 2 * (n_seen + n_new) > size:  # at most half full
        size *= 2
    if size > seen_slots.shape[0]:
        seen_slots = slot_table(seen_hashes, n_seen, size)
    return seen_slots, seen_bytes, seen_starts, seen_hashes, seen_id_starts


@njit(cache=True, nogil=True)
def _find_or_add_seen(
    data, lo, piece_ends, n_pieces, piece_ids, piece_hashes, seen_slots, seen_bytes, seen_starts, seen_hashes, n_seen
):
    """Give each piece that is not a token (piece_ids[p] == -1) the id -2 - e of its entry e of `seen`.

    Pieces not in `seen` yet are appended to it (their ids are filled in by the caller); the
    arrays must have room (`_reserve_seen`). Returns the new n_seen.
    """
    # subtle: no array is reassigned in this loop -- growing arrays inside it made every
    # iteration 15x slower (measured), hence the reservation beforehand.
    mask = seen_slots.shape[0] - 1
    for p in range(n_pieces):
        hi = piece_ends[p]
        if piece_ids[p] < 0:
            h = piece_hashes[p]
            e = _probe(data, lo, hi, h, seen_slots, seen_bytes, seen_starts, seen_hashes)
            if e < 0:
                e = n_seen
                a = seen_starts[e]
                for j in range(lo, hi):
                    seen_bytes[a + j - lo] = data[j]
                seen_starts[e + 1] = a + hi - lo
                seen_hashes[e] = h
                s = h & mask
                while seen_slots[s] != -1:
                    s = (s + 1) & mask
                seen_slots[s] = e
                n_seen += 1
            piece_ids[p] = -2 - e
        lo = hi
    return n_seen


@njit(cache=True, nogil=True)
def encode_texts(
    pattern,
    data,
    text_ends,
    classes,
    slots,
    arena,
    starts,
    ranks,
    hashes,
    byte_ranks,
    pairs,
    out_ids,
    out_text_ends,
):
    """Encode each UTF-8 text of `data` (N,) uint8, the texts ending at `text_ends` (K,) int64.

    pattern, classes: as `text.kernels.split.split_pieces`; slots..hashes: the token table;
    byte_ranks, pairs: the merge tables of `merge.py`. Writes the ids to `out_ids`
    (>= N,) uint32 (0xFFFFFFFF marks a byte that is not a token) and the end of each text's
    ids to `out_text_ends` (K,) int64. Returns how many ids the last piece of the last text
    has (0 if that text is empty).
    """
    piece_ends = np.empty(_CHUNK, dtype=np.int64)
    piece_ids = np.empty(_CHUNK, dtype=np.int64)  # the token id, or -2 - (entry of `seen`)
    piece_hashes = np.empty(_CHUNK, dtype=np.int64)
    new_offsets = np.empty(_CHUNK + 1, dtype=np.int64)
    # `seen`: the pieces of this call that are not tokens, each merged once. Entry e's bytes
    # are seen_bytes[seen_starts[e]:seen_starts[e+1]], its ids seen_ids[seen_id_starts[e]:...[e+1]].
    seen_slots = np.full(1 << 12, -1, dtype=np.int32)
    seen_bytes = np.empty(1 << 14, dtype=np.uint8)
    seen_starts = np.zeros((1 << 11) + 1, dtype=np.int64)
    seen_hashes = np.empty(1 << 11, dtype=np.int64)
    seen_ids = np.empty(1 << 14, dtype=np.int64)
    seen_id_starts = np.zeros((1 << 11) + 1, dtype=np.int64)
    n_seen = 0
    n_out = 0
    n_last = 0
    start = 0
    for t in range(text_ends.shape[0]):
        end = text_ends[t]
        n_last = 0
        i = start
        while i < end:
            chunk_start = i
            k = split_chunk(pattern, data, i, end, classes, piece_ends, _CHUNK)
            i = piece_ends[k - 1]
            _look_up_tokens(
                data,
                chunk_start,
                piece_ends,
                k,
                slots,
                arena,
                starts,
                ranks,
                hashes,
                byte_ranks,
                piece_ids,
                piece_hashes,
            )

            # The other pieces: find them in `seen`, or add them to it, to be merged below.
            if n_seen > _MAX_SEEN:  # forget, to bound the memory (results do not change)
                n_seen = 0
                seen_slots[:] = -1
            first_new = n_seen
            seen_slots, seen_bytes, seen_starts, seen_hashes, seen_id_starts = _reserve_seen(
                k, i - chunk_start, seen_slots, seen_bytes, seen_starts, seen_hashes, seen_id_starts, n_seen
            )
            n_seen = _find_or_add_seen(
                data,
                chunk_start,
                piece_ends,
                k,
                piece_ids,
                piece_hashes,
                seen_slots,
                seen_bytes,
                seen_starts,
                seen_hashes,
                n_seen,
            )

            # Merge the new entries, all in one call, straight into seen_ids.
            n_new = n_seen - first_new
            if n_new > 0:
                base = seen_id_starts[first_new]
                need = base + seen_starts[n_seen] - seen_starts[first_new]  # at most one id per byte
                if need > seen_ids.shape[0]:
                    seen_ids = _grown(seen_ids, need)
                bpe_encode_pieces(
                    seen_bytes,
                    seen_starts[first_new : n_seen + 1],
                    byte_ranks,
                    pairs,
                    seen_ids[base:],
                    new_offsets[: n_new + 1],
                )
                for q in range(n_new):
                    seen_id_starts[first_new + q + 1] = base + new_offsets[q + 1]

            # Write the ids in text order.
            for p in range(k):
                r = piece_ids[p]
                if r >= 0:
                    out_ids[n_out] = r
                    n_out += 1
                    n_last = 1
                else:
                    e = -2 - r
                    n_last = seen_id_starts[e + 1] - seen_id_starts[e]
                    for x in range(seen_id_starts[e], seen_id_starts[e + 1]):
                        out_ids[n_out] = seen_ids[x]
                        n_out += 1
        out_text_ends[t] = n_out
        start = end
    return n_last


@njit(cache=True, inline="always")
def _section(tables, k):
    """Section k of the packed tables (see TABLE_SECTIONS)."""
    return tables[tables[1 + k] : tables[2 + k]]


@njit(cache=True, nogil=True)
def encode_one(data, blob, scratch):
    """Encode one UTF-8 text `data` (N bytes); returns how many ids it wrote to scratch[:count].

    blob (B,) uint8: everything the encoder reads, in one array (`fast_encode.pack_blob`); scratch (S,) int64,
    S >= 2 N + 2 * SCRATCH_PER_MERGE + 1: the ids go to its front, the piece ends after them, the merge scratch
    at its back, and scratch[S - 1] gets how many ids the last piece has.

    Made for short texts: each piece that is not a token is merged where it occurs (no `seen`
    table, nothing allocated), so the cost of a call is mostly Numba's dispatch, which types each
    argument on every call -- hence bytes (no NumPy array to make) and two arrays. Same ids as
    `encode_texts`.
    """
    n_words = blob[: 8 * (2 + _N_SECTIONS)].view(np.int64)[1 + _N_SECTIONS]
    tables = blob[: 8 * n_words].view(np.int64)
    classes = blob[8 * n_words : 8 * n_words + 2 * N_CODE_POINTS].view(np.uint16)
    arena = blob[8 * n_words + 2 * N_CODE_POINTS :]
    pattern = tables[0]
    slots = _section(tables, 0)
    starts = _section(tables, 1)
    token_ids = _section(tables, 2)
    hashes = _section(tables, 3)
    byte_ranks = _section(tables, 4)
    pairs = _section(tables, 5)
    end = len(data)
    n_scratch = scratch.shape[0]
    out_ids = scratch[:end]
    piece_ends = scratch[end : 2 * end]
    parts = scratch[n_scratch - 1 - 2 * _SMALL : n_scratch - 1 - _SMALL]
    pair_ranks = scratch[n_scratch - 1 - _SMALL : n_scratch - 1]
    n_out = 0
    n_last = 0
    i = 0
    while i < end:
        lo = i
        k = split_chunk(pattern, data, i, end, classes, piece_ends, end)
        i = piece_ends[k - 1]
        for p in range(k):
            hi = piece_ends[p]
            if hi - lo == 1 and byte_ranks[data[lo]] >= 0:  # a single byte that is a token: no hash, no probe
                out_ids[n_out] = byte_ranks[data[lo]]
                n_out += 1
                n_last = 1
                lo = hi
                continue
            t = _probe(data, lo, hi, piece_hash(data, lo, hi), slots, arena, starts, hashes)
            if t >= 0:
                out_ids[n_out] = token_ids[t]
                n_out += 1
                n_last = 1
            else:
                n_next = merge_piece(data, lo, hi, byte_ranks, pairs, parts, pair_ranks, out_ids, n_out)
                n_last = n_next - n_out
                n_out = n_next
            lo = hi
    scratch[n_scratch - 1] = n_last
    return n_out
