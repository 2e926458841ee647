"""The readable twins of `pretokenize_gpt4`: the same signatures, built on `regex` and dicts.

`split_gpt4` runs the GPT-4 pattern with the `regex` module (the definition the kernel must
reproduce); `add_pieces` keeps the same arena / table layout with a Python dict doing the
lookups. Tests run both and compare.
"""
from __future__ import annotations

import numpy as np
import regex

from minembed.tokenizers.patterns import GPT4_SPLIT_PATTERN

_PATTERN = regex.compile(GPT4_SPLIT_PATTERN)
_MASK64 = (1 << 64) - 1


def split_gpt4(data: np.ndarray, text_ends: np.ndarray, classes: np.ndarray, piece_ends: np.ndarray) -> int:
    """Cut UTF-8 `data` (N,) uint8, texts ending at `text_ends` (K,) int64; write piece ends, return how many.

    `classes` is unused here: the regex module is the definition.
    """
    n_pieces = 0
    start = 0
    for end in text_ends.tolist():
        text = data[start:end].tobytes().decode("utf-8")
        offset = start
        for piece in _PATTERN.findall(text):
            offset += len(piece.encode("utf-8"))
            piece_ends[n_pieces] = offset
            n_pieces += 1
        start = end
    return n_pieces


def fnv1a(piece: bytes) -> int:
    """64-bit FNV-1a, as a signed int64 (the kernel's hash)."""
    h = 0xCBF29CE484222325
    for byte in piece:
        h = ((h ^ byte) * 0x100000001B3) & _MASK64
    return h - (1 << 64) if h >= 1 << 63 else h


def add_pieces(data, piece_ends, n_new, weights, table, arena, starts, counts, hashes, n_pieces):
    """Count the pieces data[piece_ends[k-1]:piece_ends[k]] (weights[k] each, or 1); see the kernel."""
    pieces = [arena[starts[p]:starts[p + 1]].tobytes() for p in range(n_pieces)]
    index = {piece: p for p, piece in enumerate(pieces)}
    counts = counts[:n_pieces].tolist()
    bounds = [0] + piece_ends[:n_new].tolist()
    for k in range(n_new):
        piece = data[bounds[k]:bounds[k + 1]].tobytes()
        weight = int(weights[k]) if len(weights) else 1
        if piece in index:
            counts[index[piece]] += weight
        else:
            index[piece] = len(pieces)
            pieces.append(piece)
            counts.append(weight)

    n = len(pieces)
    size = max(2 * len(counts), 2)
    new_starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=new_starts[1:n + 1])
    new_arena = np.frombuffer(b"".join(pieces), dtype=np.uint8).copy()
    new_counts = np.zeros(size, dtype=np.int64)
    new_counts[:n] = counts
    new_hashes = np.zeros(size, dtype=np.int64)
    new_hashes[:n] = [fnv1a(p) for p in pieces]
    table_size = table.shape[0]
    while 2 * n > table_size:
        table_size *= 2
    new_table = np.full(table_size, -1, dtype=np.int32)
    for p in range(n):  # linear probing, as in the kernel
        s = int(new_hashes[p]) & (table_size - 1)
        while new_table[s] != -1:
            s = (s + 1) & (table_size - 1)
        new_table[s] = p
    return new_table, new_arena, new_starts, new_counts, new_hashes, n


def count_gpt4(data, text_ends, classes, table, arena, starts, counts, hashes, n_pieces):
    """split_gpt4, then add_pieces: count every piece of `data`; returns the state and the pieces seen."""
    piece_ends = np.empty(len(data), dtype=np.int64)
    seen = split_gpt4(data, text_ends, classes, piece_ends)
    state = add_pieces(data, piece_ends, seen, np.zeros(0, np.int64), table, arena, starts, counts, hashes, n_pieces)
    return (*state, seen)
