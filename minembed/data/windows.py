"""SlidingWindowDataset: every (input, target) training window of a token stream, as views.

The course's GPTDatasetV1 builds two tensors per window; with stride 1 over a million tokens that
is two million tensors and gigabytes. Here the windows are two strided views over the one token
array, so building the dataset costs O(1) time and memory whatever the stride, and a memmapped
token file is never read until a window is used.

    ids      = [0, 1, 2, 3, 4, 5, 6]          max_length=3, stride=2
    inputs   = [[0, 1, 2], [2, 3, 4]]         starts range(0, len(ids) - max_length, stride)
    targets  = [[1, 2, 3], [3, 4, 5]]         the same windows shifted right by one

>>> ds = SlidingWindowDataset(np.arange(7), max_length=3, stride=2)
>>> len(ds), ds[1]
(2, (array([2, 3, 4]), array([3, 4, 5])))
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {name}={value}")
    return int(value)


def as_token_array(token_ids, name: str = "token_ids") -> np.ndarray:
    """token_ids as a 1-D integer ndarray, without copying an ndarray (memmaps stay memmaps)."""
    if isinstance(token_ids, np.ndarray):
        array = token_ids
    else:
        array = np.asarray(token_ids)
        if array.size == 0 and array.dtype == np.float64:
            array = array.astype(np.int64)  # np.asarray([]) is float64; an empty list is still token ids
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{name} must hold integer token ids, got dtype {array.dtype}; "
            f"convert with np.asarray({name}, dtype=np.int64) if the values are whole numbers"
        )
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one token stream), got shape {array.shape}; flatten it with .ravel()")
    return array


def num_windows(num_tokens: int, max_length: int, stride: int) -> int:
    """len(range(0, num_tokens - max_length, stride)), the course's window count.

    Example: num_windows(7, 3, 2) -> 2 (starts 0 and 2; start 4 would need a target past the end)
    """
    return max(0, -(-(num_tokens - max_length) // stride))


def is_token_sequence(token_ids) -> bool:
    """Whether token_ids is a sequence of tokens that is not one array and gathers its own spans.

    Such an object (e.g. minembed.data.shards.TokenShards, several token files as one) has
    `len`, `dtype` and `gather_spans(starts, length) -> (len(starts), length)` array; windows
    and batches are read through it, never by concatenating it.
    """
    return not isinstance(token_ids, np.ndarray) and callable(getattr(token_ids, "gather_spans", None))


class _GatheredWindows:
    """(n, width) windows starting at shift + i * stride, gathered on demand from a token sequence.

    Stands in for the strided views of SlidingWindowDataset when the tokens are not one array:
    indexing by an int, a slice or an integer array gives what the view would give (as copies).
    """

    def __init__(self, tokens, n: int, stride: int, width: int, shift: int = 0) -> None:
        self.tokens, self.n, self.stride, self.width, self.shift = tokens, n, stride, width, shift
        self.shape = (n, width)
        self.dtype = np.dtype(tokens.dtype)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            return self[np.asarray([index])][0]
        rows = np.arange(self.n)[index] if isinstance(index, slice) else np.asarray(index, dtype=np.int64)
        rows = np.where(rows < 0, rows + self.n, rows)
        spans = self.tokens.gather_spans(rows.ravel() * self.stride + self.shift, self.width)
        return spans.reshape(rows.shape + (self.width,))


class SlidingWindowDataset:
    """The windows of GPTDatasetV1 as zero-copy views over one token array (any integer dtype).

    `ds[i]` -> (x, y), each a read-only view of shape (max_length,), in the dtype of token_ids;
    `ds[a:b]` -> (X, Y) views of shape (k, max_length); `ds[int_array]` -> (X, Y) copies (a batch).
    `ds.inputs` / `ds.targets` are all windows at once, shape (len(ds), max_length).
    A token sequence that is not one array (TokenShards over several token files) is used as it
    is: the same windows, gathered on demand as copies, also across the files' boundaries.
    """

    def __init__(self, token_ids, max_length: int, stride: int) -> None:
        sequence = is_token_sequence(token_ids)  # e.g. TokenShards: windows gathered on demand
        ids = token_ids if sequence else as_token_array(token_ids)
        max_length = _check_positive_int(max_length, "max_length")
        stride = _check_positive_int(stride, "stride")
        if len(ids) <= max_length:
            raise ValueError(
                f"too few tokens: got {len(ids)} token ids but max_length={max_length} needs at least "
                f"{max_length + 1} (inputs plus the one-token shift of the targets); lower max_length or add text"
            )
        self.token_ids = ids
        self.max_length = max_length
        self.stride = stride
        if sequence:
            n = num_windows(len(ids), max_length, stride)
            self._spans = _GatheredWindows(ids, n, stride, max_length + 1)
            self.inputs = _GatheredWindows(ids, n, stride, max_length)
            self.targets = _GatheredWindows(ids, n, stride, max_length, shift=1)
            return
        # All windows of max_length + 1 tokens, every `stride`-th one: (N, T + 1), a view of ids.
        # The last possible start is len(ids) - max_length - 1, exactly the course's range().
        spans = sliding_window_view(ids, max_length + 1)[::stride]  # read-only view
        self._spans = spans
        self.inputs = spans[:, :-1]  # (N, T)
        self.targets = spans[:, 1:]  # (N, T)

    def __len__(self) -> int:
        return self._spans.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.inputs[index], self.targets[index]
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            n = len(self)
            if not -n <= index < n:
                raise IndexError(f"window index {index} is out of range for a dataset of {n} windows")
            return self.inputs[index], self.targets[index]
        batch = np.asarray(index)
        if batch.dtype == np.bool_ or not np.issubdtype(batch.dtype, np.integer):
            raise TypeError(
                f"windows are indexed by an int, a slice or an integer array, got {type(index).__name__} "
                f"of dtype {batch.dtype}"
            )
        n = len(self)
        if batch.size and (batch.min() < -n or batch.max() >= n):
            bad = batch[(batch < -n) | (batch >= n)].flat[0]
            raise IndexError(f"window index {bad} is out of range for a dataset of {n} windows")
        spans = self._spans[batch]  # one gather: (B, T + 1), a copy
        return spans[..., :-1], spans[..., 1:]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(len(self)):
            yield self.inputs[i], self.targets[i]

    def __repr__(self) -> str:
        return (
            f"SlidingWindowDataset({len(self)} windows, max_length={self.max_length}, stride={self.stride}, "
            f"tokens={len(self.token_ids)}, dtype={self.token_ids.dtype})"
        )
