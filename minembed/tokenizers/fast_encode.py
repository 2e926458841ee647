"""The Numba encoder behind `Encoding.encode` for the split patterns of the registered encodings.

`NumbaEncoder.for_pattern(pat_str, ...)` returns an encoder when `pat_str` is, character for
character, the pattern of gpt2 / r50k_base, cl100k_base or o200k_base (never decided by an
encoding's name), and None for any other pattern, which keeps using the `regex` module.
The encoder splits with the hand-written matchers of `kernels.pretokenize_tiktoken`, looks
each piece up in a hash table of the token bytes, and BPE-merges the rest, all in one
Numba call per batch of texts (`kernels.bpe_encode`).

>>> ranks = {b"a": 0, b"b": 1, b"ab": 2, b" ": 3}
>>> enc = NumbaEncoder.for_pattern(GPT2_SPLIT_PATTERN, ranks, MergeTable.from_ranks(ranks))
>>> enc.encode([b"ab ba", b"b"])   # pieces "ab", " ba" | "b"; " ba" is merged from its bytes
(array([2, 3, 1, 0, 1], dtype=uint32), array([4, 5]), 1)
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import regex

from minembed.kernels import bpe_encode
from minembed.kernels import pretokenize_tiktoken as kernels
from minembed.tokenizers.merges import MergeTable
from minembed.tokenizers.patterns import (
    CL100K_SPLIT_PATTERN,
    GPT2_SPLIT_PATTERN,
    O200K_SPLIT_PATTERN,
)
from minembed.tokenizers.pretokenize import gpt4_classes

# Exact pattern text -> matcher. r50k_base uses the gpt2 pattern.
NUMBA_PATTERNS = {
    GPT2_SPLIT_PATTERN: kernels.GPT2,
    CL100K_SPLIT_PATTERN: kernels.CL100K,
    O200K_SPLIT_PATTERN: kernels.O200K,
}


@functools.lru_cache(maxsize=1)
def split_classes() -> np.ndarray:
    """(0x110000,) uint16: the character class bits of every code point, as the `regex` module sees them.

    The low byte is `pretokenize.gpt4_classes()` (\\p{L}, \\p{N}, \\s and the case-insensitive
    contraction letter, same bits); UPPER and LOWER mark o200k's two case classes.
    """
    assert kernels.CONTRACTION_LETTERS == "sdmtlver" and kernels.FOLD_SHIFT == 4  # gpt4_classes' layout
    classes = gpt4_classes().astype(np.uint16)
    code_points = np.arange(0x110000, dtype=np.uint32)
    code_points[0xD800:0xE000] = 0  # surrogates cannot occur in UTF-8 text
    every_char = code_points.tobytes().decode("utf-32-le")
    for flag, pat in (
        (kernels.UPPER, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"),
        (kernels.LOWER, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"),
    ):
        for m in regex.finditer(pat, every_char):
            classes[m.start():m.end()] |= flag
    classes[0xD800:0xE000] = 0
    classes[0] = gpt4_classes()[0]
    return classes


@dataclass(frozen=True)
class TokenTable:
    """{token bytes: id} as an open-addressing hash table over flat arrays (see `kernels.bpe_encode`)."""

    slots: np.ndarray
    arena: np.ndarray
    starts: np.ndarray
    ranks: np.ndarray
    hashes: np.ndarray

    @classmethod
    def from_ranks(cls, mergeable_ranks: Mapping[bytes, int]) -> TokenTable:
        tokens = list(mergeable_ranks)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        starts = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        arena = np.frombuffer(b"".join(tokens), dtype=np.uint8)
        ranks = np.fromiter(mergeable_ranks.values(), dtype=np.int64, count=len(tokens))
        # At most a quarter full: a miss (most pieces of a text that are not tokens) stops early.
        slots = np.full(1 << max(4, (4 * len(tokens)).bit_length()), -1, dtype=np.int32)
        hashes = bpe_encode.build_token_table(arena, starts, slots)
        return cls(slots=slots, arena=arena, starts=starts, ranks=ranks, hashes=hashes)


class NumbaEncoder:
    """Encodes UTF-8 texts with one of the Numba matchers; holds the tables, immutable, thread-safe."""

    def __init__(self, pattern: int, tokens: TokenTable, merges: MergeTable) -> None:
        self.pattern = pattern
        self.classes = split_classes()
        self.tokens = tokens
        self.merges = merges

    @classmethod
    def for_pattern(
        cls, pat_str: str, mergeable_ranks: Mapping[bytes, int], merges: MergeTable
    ) -> NumbaEncoder | None:
        """An encoder if `pat_str` is exactly one of NUMBA_PATTERNS, else None."""
        pattern = NUMBA_PATTERNS.get(pat_str)
        if pattern is None:
            return None
        return cls(pattern, TokenTable.from_ranks(mergeable_ranks), merges)

    def encode(self, texts: list[bytes]) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids (N,) uint32, text_ends (K,) int64, ids of the last piece) for valid UTF-8 texts.

        Text k's ids are ids[text_ends[k-1]:text_ends[k]]. An id of 0xFFFFFFFF marks a byte
        that is not a token (only possible for encodings without all 256 single bytes).
        """
        data = np.frombuffer(b"".join(texts), dtype=np.uint8)
        text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        out_ids = np.empty(data.shape[0], dtype=np.uint32)
        out_text_ends = np.zeros(len(texts), dtype=np.int64)
        t, m = self.tokens, self.merges
        n_last = bpe_encode.encode_texts(
            self.pattern, data, text_ends, self.classes,
            t.slots, t.arena, t.starts, t.ranks, t.hashes,
            m.byte_ranks, m.row_ptr, m.right_ids, m.merged_ids,
            out_ids, out_text_ends,
        )
        n_ids = int(out_text_ends[-1]) if len(texts) else 0
        return out_ids[:n_ids], out_text_ends, int(n_last)
