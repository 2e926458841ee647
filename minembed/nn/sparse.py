"""A sparse row gradient: the (indices, values) pair that torch keeps as an uncoalesced COO tensor."""

from __future__ import annotations

import numpy as np


class SparseRowGradient:
    """The gradient of a table of shape (num_rows, dim) that is non-zero only on some rows.

    indices (nnz,) int64: the row of each entry, in the order the ids were seen, duplicates kept
    (torch's uncoalesced layout; torch stores the same numbers with shape (1, nnz)).
    values (nnz, dim): the gradient contribution of each entry.

    >>> g = SparseRowGradient(np.array([2, 0, 2]), np.ones((3, 2), np.float32), (4, 2))
    >>> g.to_dense()[:, 0]
    array([1., 0., 2., 0.], dtype=float32)
    """

    def __init__(self, indices: np.ndarray, values: np.ndarray, shape: tuple[int, int]):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.values = np.asarray(values)
        self.shape = (int(shape[0]), int(shape[1]))
        if self.indices.ndim != 1 or self.values.shape != (self.indices.shape[0], self.shape[1]):
            raise ValueError(
                f"indices must be (nnz,) and values (nnz, {self.shape[1]}); got {self.indices.shape} "
                f"and {self.values.shape}"
            )

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def nnz(self) -> int:
        """Number of stored entries (duplicates counted)."""
        return self.indices.shape[0]

    def to_dense(self) -> np.ndarray:
        """The (num_rows, dim) array; duplicate rows are summed in order."""
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        np.add.at(dense, self.indices, self.values)
        return dense

    def coalesce(self) -> SparseRowGradient:
        """One entry per distinct row, rows sorted, duplicates summed in order."""
        rows, inverse = np.unique(self.indices, return_inverse=True)
        values = np.zeros((rows.shape[0], self.shape[1]), dtype=self.values.dtype)
        np.add.at(values, inverse, self.values)
        return SparseRowGradient(rows, values, self.shape)

    def __add__(self, other: SparseRowGradient) -> SparseRowGradient:
        """Accumulate by concatenation, as torch does for two sparse backwards."""
        if not isinstance(other, SparseRowGradient) or other.shape != self.shape:
            return NotImplemented
        return SparseRowGradient(
            np.concatenate([self.indices, other.indices]),
            np.concatenate([self.values, other.values]),
            self.shape,
        )

    def __repr__(self) -> str:
        return f"SparseRowGradient(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"
