"""The readable twins of `encode`: the same signatures, built on `regex`, dicts and `merge_numpy`.

`encode_texts` here is tiktoken's rule written plainly: split each text with the pattern
(the `regex` module), then each piece is its token if it is one, else the BPE merge of its
bytes. Tests run both and compare.
"""

from __future__ import annotations

import numpy as np

from minembed.text.classes import N_CODE_POINTS
from minembed.text.kernels import split_numpy
from minembed.text.kernels.hash_numpy import piece_hash, slot_table
from minembed.tokenizers.kernels import merge_numpy


def build_token_table(arena: np.ndarray, starts: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Fill `slots` (S,) int32 (all -1, S a power of two >= 2 T) with the T tokens; returns hashes (T,) int64."""
    n_tokens = len(starts) - 1
    hashes = np.array([piece_hash(arena, starts[t], starts[t + 1]) for t in range(n_tokens)], dtype=np.int64)
    slots[:] = slot_table(hashes, n_tokens, len(slots))
    return hashes


def token_rank(data, lo, hi, slots, arena, starts, ranks, hashes) -> int:
    """The id of the token whose bytes are data[lo:hi], or -1 (a scan instead of the hash table)."""
    piece = bytes(data[lo:hi])
    for t in range(len(starts) - 1):
        if arena[starts[t] : starts[t + 1]].tobytes() == piece:
            return int(ranks[t])
    return -1


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
    """Encode each UTF-8 text of `data`, texts ending at `text_ends`; see the kernel for the contract."""
    token_ids = {arena[starts[t] : starts[t + 1]].tobytes(): int(ranks[t]) for t in range(len(starts) - 1)}
    piece_ends = np.empty(len(data), dtype=np.int64)
    n_pieces = split_numpy.split_pieces(pattern, data, text_ends, classes, piece_ends)
    raw = bytes(data)
    ends = piece_ends[:n_pieces].tolist()
    n_out = 0
    n_last = 0
    lo = 0
    p = 0
    for t, text_end in enumerate(text_ends.tolist()):
        n_last = 0
        while p < n_pieces and ends[p] <= text_end:
            piece = raw[lo : ends[p]]
            if piece in token_ids:
                ids = [token_ids[piece]]
            else:
                ids = merge_numpy.bpe_merge(piece, byte_ranks, pairs)
            out_ids[n_out : n_out + len(ids)] = np.array(ids, dtype=np.int64).astype(np.uint32)
            n_out += len(ids)
            n_last = len(ids)
            lo = ends[p]
            p += 1
        out_text_ends[t] = n_out
    return n_last


TABLE_SECTIONS = ("slots", "starts", "ranks", "hashes", "byte_ranks", "pairs")


def encode_one(data, blob, scratch):
    """Encode one UTF-8 text (bytes) into scratch[:count]; returns count, scratch[-1] = ids of the last piece.

    blob: the packed tables, character classes and token bytes (`fast_encode.pack_blob`).
    """
    n_words = int(blob[: 8 * (2 + len(TABLE_SECTIONS))].view(np.int64)[1 + len(TABLE_SECTIONS)])
    tables = blob[: 8 * n_words].view(np.int64)
    classes = blob[8 * n_words : 8 * n_words + 2 * N_CODE_POINTS].view(np.uint16)
    arena = blob[8 * n_words + 2 * N_CODE_POINTS :]
    section = {name: tables[tables[1 + k] : tables[2 + k]] for k, name in enumerate(TABLE_SECTIONS)}
    data = np.frombuffer(data, dtype=np.uint8)
    out_text_ends = np.zeros(1, dtype=np.int64)
    ids = np.empty(max(1, len(data)), dtype=np.uint32)
    n_last = encode_texts(
        int(tables[0]),
        data,
        np.array([len(data)], dtype=np.int64),
        classes,
        section["slots"],
        arena,
        section["starts"],
        section["ranks"],
        section["hashes"],
        section["byte_ranks"],
        section["pairs"],
        ids,
        out_text_ends,
    )
    n_ids = int(out_text_ends[0])
    scratch[:n_ids] = ids[:n_ids]
    scratch[-1] = n_last
    return n_ids
