"""The readable twin of `pretokenize_tiktoken`: the same signature, built on `regex.findall`.

The `regex` module running the pattern itself is the definition the Numba matchers must
reproduce; tests run both and compare.
"""
from __future__ import annotations

import numpy as np
import regex

from minembed.kernels.pretokenize_tiktoken import CL100K, GPT2, O200K
from minembed.tokenizers.patterns import (
    CL100K_SPLIT_PATTERN,
    GPT2_SPLIT_PATTERN,
    O200K_SPLIT_PATTERN,
)

PATTERNS = {
    GPT2: regex.compile(GPT2_SPLIT_PATTERN),
    CL100K: regex.compile(CL100K_SPLIT_PATTERN),
    O200K: regex.compile(O200K_SPLIT_PATTERN),
}


def split_pieces(pattern: int, data: np.ndarray, text_ends: np.ndarray, classes: np.ndarray, piece_ends: np.ndarray) -> int:
    """Cut UTF-8 `data` (N,) uint8, texts ending at `text_ends` (K,) int64; write piece ends, return how many.

    `classes` is unused here: the regex module is the definition.
    """
    n_pieces = 0
    start = 0
    for end in text_ends.tolist():
        offset = start
        for piece in PATTERNS[pattern].findall(data[start:end].tobytes().decode("utf-8")):
            offset += len(piece.encode("utf-8"))
            piece_ends[n_pieces] = offset
            n_pieces += 1
        start = end
    return n_pieces
