"""The pair table that the BPE kernel merges with, and the wrapper that calls the kernel.

`MergeTable.from_ranks(mergeable_ranks)` turns {token bytes: rank} into integer arrays once per
encoding; `table.encode_pieces([b"hello", b" world"])` returns [[31373], [995]] (gpt2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MergeTable:
    """Integer form of the mergeable ranks, as the kernels in `minembed.tokenizers.kernels.merge` expect.

    byte_ranks (256,) int64: id of each single byte (-1 if missing);
    row_ptr (V+1,), right_ids (M,), merged_ids (M,) int64: CSR pair table
    (left id, right id) -> id of the concatenation, rows sorted by right id.
    """

    byte_ranks: np.ndarray
    row_ptr: np.ndarray
    right_ids: np.ndarray
    merged_ids: np.ndarray

    @classmethod
    def from_ranks(cls, mergeable_ranks: dict[bytes, int]) -> MergeTable:
        """Every way of cutting every token into two tokens becomes a pair -> merged entry.

        Example: with tokens a=0, b=1, ab=2, abb=3: (0, 1) -> 2 and (2, 1) -> 3.
        """
        get = mergeable_ranks.get
        lefts: list[int] = []
        rights: list[int] = []
        merged: list[int] = []
        for token, rank in mergeable_ranks.items():
            # subtle: tiktoken merges by the rank of the *concatenated bytes*, so every split
            # of a token into two tokens counts, not only the merge that created it in training.
            for cut in range(1, len(token)):
                left = get(token[:cut])
                if left is None:
                    continue
                right = get(token[cut:])
                if right is not None:
                    lefts.append(left)
                    rights.append(right)
                    merged.append(rank)
        n_rows = max(mergeable_ranks.values(), default=-1) + 1
        left_arr = np.asarray(lefts, dtype=np.int64)
        right_arr = np.asarray(rights, dtype=np.int64)
        order = np.lexsort((right_arr, left_arr))
        row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(left_arr, minlength=n_rows), out=row_ptr[1:])
        byte_ranks = np.full(256, -1, dtype=np.int64)
        for b in range(256):
            byte_ranks[b] = mergeable_ranks.get(bytes([b]), -1)
        return cls(
            byte_ranks=byte_ranks,
            row_ptr=row_ptr,
            right_ids=np.ascontiguousarray(right_arr[order]),
            merged_ids=np.ascontiguousarray(np.asarray(merged, dtype=np.int64)[order]),
        )

    def encode_pieces_flat(self, pieces: list[bytes], kernel=None) -> tuple[np.ndarray, np.ndarray]:
        """BPE every piece (no whole-token shortcut). Returns (ids (N,) int64, offsets (P+1,) int64).

        Piece p's ids are ids[offsets[p]:offsets[p+1]]; an id of -1 marks a byte that is not a token.
        kernel: `kernels.merge.bpe_encode_pieces` (the default) or its twin in `kernels.merge_numpy`.
        """
        if kernel is None:
            from minembed.tokenizers.kernels.merge import bpe_encode_pieces as kernel  # loaded on first use
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.frombuffer(b"".join(pieces), dtype=np.uint8)
        out_ids = np.empty(data.shape[0], dtype=np.int64)
        out_offsets = np.empty(len(pieces) + 1, dtype=np.int64)
        kernel(data, offsets, self.byte_ranks, self.row_ptr, self.right_ids, self.merged_ids, out_ids, out_offsets)
        return out_ids[: out_offsets[-1]], out_offsets

    def encode_pieces(self, pieces: list[bytes], kernel=None) -> list[list[int]]:
        """BPE every piece; one list of ids per piece (see `encode_pieces_flat`)."""
        ids, offsets = self.encode_pieces_flat(pieces, kernel)
        flat = ids.tolist()
        bounds = offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds, bounds[1:])]
