"""Pure-Python twin of `minembed.tokenizers.kernels.merge`, with the same signature and results.

This is the readable definition of the merge rule: quadratic in the piece length, so use it
on short inputs only. The tests run it against the Numba kernel.
"""

from __future__ import annotations

from minembed.tokenizers.merges import EMPTY_PAIR, PAIR_HASH_MULTIPLIER, PAIR_HEADER, PAIR_ID_BITS, PAIR_ID_MASK


def pair_rank(pairs, left, right):
    """The id of the token left+right, or -1 if that concatenation is not a token (a probe of `pairs`)."""
    if left < 0 or right < 0:
        return -1
    bits, words = int(pairs[0]), int(pairs[1])
    key = (int(left) << PAIR_ID_BITS) | int(right) if words == 1 else (int(left) << 32) | int(right)
    slot = ((key * PAIR_HASH_MULTIPLIER) % 2**64) >> (64 - bits)  # `merges.pair_home`
    while True:
        first = int(pairs[PAIR_HEADER + words * slot])
        if first == EMPTY_PAIR:
            return -1
        if words == 1 and first >> PAIR_ID_BITS == key:
            return first & PAIR_ID_MASK
        if words == 2 and first == key:
            return int(pairs[PAIR_HEADER + 2 * slot + 1])
        slot += 1


def bpe_merge(piece: bytes, byte_ranks, pairs) -> list[int]:
    """The ids of one piece. Example (gpt2): b"hello" -> [31373]; b"0" * 9 -> [10535, 830]."""
    parts = [int(byte_ranks[b]) for b in piece]
    while len(parts) > 1:
        ranks = [pair_rank(pairs, a, b) for a, b in zip(parts, parts[1:])]
        candidates = [(r, i) for i, r in enumerate(ranks) if r >= 0]
        if not candidates:
            break
        # Lowest rank first; among equal ranks the leftmost pair (the smaller i).
        best, at = min(candidates)
        parts[at : at + 2] = [best]
    return parts


def merge_piece(data, start, stop, byte_ranks, pairs, parts, ranks, out_ids, n_out):
    """BPE-merge data[start:stop] into out_ids from n_out; returns the new n_out (parts, ranks unused here)."""
    ids = bpe_merge(bytes(data[start:stop]), byte_ranks, pairs)
    out_ids[n_out : n_out + len(ids)] = ids
    return n_out + len(ids)


def bpe_encode_pieces(data, piece_offsets, byte_ranks, pairs, out_ids, out_offsets):
    """BPE-merge every piece of `data` into out_ids / out_offsets (see `merge.py`)."""
    raw = bytes(data)
    n_out = 0
    out_offsets[0] = 0
    for p in range(len(piece_offsets) - 1):
        ids = bpe_merge(raw[piece_offsets[p] : piece_offsets[p + 1]], byte_ranks, pairs)
        out_ids[n_out : n_out + len(ids)] = ids
        n_out += len(ids)
        out_offsets[p + 1] = n_out
