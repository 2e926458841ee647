"""The readable twins of `count`: the same signatures, built on `regex` and dicts.

`add_pieces` keeps the kernel's arena / table layout with a Python dict doing the lookups;
`count_pieces` splits with `regex.findall` (`text.kernels.split_numpy`). Tests run both.
"""

from __future__ import annotations

import numpy as np

from minembed.text.kernels.hash_numpy import piece_hash, slot_table
from minembed.text.kernels.split_numpy import split_pieces


def add_pieces(data, piece_ends, n_new, weights, table, arena, starts, counts, hashes, n_pieces):
    """Count the pieces data[piece_ends[k-1]:piece_ends[k]] (weights[k] each, or 1); see the kernel."""
    pieces = [arena[starts[p] : starts[p + 1]].tobytes() for p in range(n_pieces)]
    index = {piece: p for p, piece in enumerate(pieces)}
    counts = counts[:n_pieces].tolist()
    bounds = [0] + piece_ends[:n_new].tolist()
    for k in range(n_new):
        piece = data[bounds[k] : bounds[k + 1]].tobytes()
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
    np.cumsum([len(p) for p in pieces], out=new_starts[1 : n + 1])
    new_arena = np.frombuffer(b"".join(pieces), dtype=np.uint8).copy()
    new_counts = np.zeros(size, dtype=np.int64)
    new_counts[:n] = counts
    new_hashes = np.zeros(size, dtype=np.int64)
    new_hashes[:n] = [piece_hash(np.frombuffer(p, np.uint8), 0, len(p)) for p in pieces]
    table_size = table.shape[0]
    while 2 * n > table_size:
        table_size *= 2
    new_table = slot_table(new_hashes, n, table_size)
    return new_table, new_arena, new_starts, new_counts, new_hashes, n


def count_pieces(pattern, data, text_ends, classes, table, arena, starts, counts, hashes, n_pieces):
    """split_pieces, then add_pieces: count every piece of `data`; returns the state and the pieces seen."""
    piece_ends = np.empty(len(data), dtype=np.int64)
    seen = split_pieces(pattern, data, text_ends, classes, piece_ends)
    state = add_pieces(data, piece_ends, seen, np.zeros(0, np.int64), table, arena, starts, counts, hashes, n_pieces)
    return (*state, seen)
