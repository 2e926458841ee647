"""The readable twin of `split`: the same signatures, built on `regex.findall`.

The `regex` module running the pattern itself is the definition the Numba matchers must
reproduce; tests run both and compare.
"""

from __future__ import annotations

import functools

import numpy as np
import regex

from minembed.text.patterns import PATTERNS


@functools.cache
def _compiled(pattern: int) -> regex.Pattern:
    return regex.compile(PATTERNS[pattern])


def split_chunk(
    pattern: int, data: np.ndarray, i: int, end: int, classes: np.ndarray, piece_ends: np.ndarray, max_pieces: int
) -> int:
    """Split data[i:end] with `pattern` into at most `max_pieces` pieces; returns how many (ends in piece_ends)."""
    k = 0
    for piece in _compiled(pattern).findall(data[i:end].tobytes().decode("utf-8")):
        if k == max_pieces:
            break
        i += len(piece.encode("utf-8"))
        piece_ends[k] = i
        k += 1
    return k


def split_pieces(
    pattern: int, data: np.ndarray, text_ends: np.ndarray, classes: np.ndarray, piece_ends: np.ndarray
) -> int:
    """Cut UTF-8 `data` (N,) uint8, texts ending at `text_ends` (K,) int64; write piece ends, return how many.

    `classes` is unused here: the regex module is the definition.
    """
    n_pieces = 0
    start = 0
    for end in text_ends.tolist():
        n_pieces += split_chunk(pattern, data, start, end, classes, piece_ends[n_pieces:], len(piece_ends) - n_pieces)
        start = end
    return n_pieces
