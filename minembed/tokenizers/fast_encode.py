"""The Numba encoder behind `Encoding.encode` for the registered split patterns.

`NumbaEncoder.for_pattern(pat_str, ...)` returns an encoder when `pat_str` is, character for
character, a pattern registered in `minembed.text.patterns` (gpt2 / r50k_base, cl100k_base,
o200k_base, GPT-4; never decided by an encoding's name), and None for any other pattern,
which keeps using the `regex` module. The encoder splits with the matchers of
`minembed.text.kernels.split`, looks each piece up in a hash table of the token bytes, and
BPE-merges the rest, all in one Numba call per batch of texts (`tokenizers.kernels.encode`).

>>> ranks = {b"a": 0, b"b": 1, b"ab": 2, b" ": 3}
>>> enc = NumbaEncoder.for_pattern(GPT2_SPLIT_PATTERN, ranks, MergeTable.from_ranks(ranks))
>>> enc.encode([b"ab ba", b"b"])  # pieces "ab", " ba" | "b"; " ba" is merged from its bytes
(array([2, 3, 1, 0, 1], dtype=uint32), array([4, 5]), 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from minembed.text.classes import char_classes
from minembed.text.patterns import GPT2_SPLIT_PATTERN, pattern_id
from minembed.tokenizers.kernels import encode as kernels
from minembed.tokenizers.merges import MergeTable

__all__ = ["GPT2_SPLIT_PATTERN", "MergeTable", "NumbaEncoder", "TokenTable"]


@dataclass(frozen=True)
class TokenTable:
    """{token bytes: id} as an open-addressing hash table over flat arrays (see `tokenizers.kernels.encode`)."""

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
        hashes = kernels.build_token_table(arena, starts, slots)
        return cls(slots=slots, arena=arena, starts=starts, ranks=ranks, hashes=hashes)


class NumbaEncoder:
    """Encodes UTF-8 texts with one of the Numba matchers; holds the tables, immutable, thread-safe."""

    def __init__(self, pattern: int, tokens: TokenTable, merges: MergeTable) -> None:
        self.pattern = pattern
        self.classes = char_classes()
        self.tokens = tokens
        self.merges = merges

    @classmethod
    def for_pattern(cls, pat_str: str, mergeable_ranks: Mapping[bytes, int], merges: MergeTable) -> NumbaEncoder | None:
        """An encoder if `pat_str` is exactly a registered pattern, else None."""
        pattern = pattern_id(pat_str)
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
        n_last = kernels.encode_texts(
            self.pattern,
            data,
            text_ends,
            self.classes,
            t.slots,
            t.arena,
            t.starts,
            t.ranks,
            t.hashes,
            m.byte_ranks,
            m.row_ptr,
            m.right_ids,
            m.merged_ids,
            out_ids,
            out_text_ends,
        )
        n_ids = int(out_text_ends[-1]) if len(texts) else 0
        return out_ids[:n_ids], out_text_ends, int(n_last)
