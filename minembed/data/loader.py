"""Batches of training windows: DataLoader, create_dataloader and nanoGPT-style random_batch.

A batch is one NumPy gather from the strided window view, not B separate tensors stacked
together, which is why iterating is fast. Batches are int64 arrays of shape (B, T), like the
tensors torch's DataLoader yields over GPTDatasetV1 and nanoGPT's get_batch returns (uint16
ids would silently wrap around in arithmetic).
"""
from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minembed.data.windows import SlidingWindowDataset, _check_positive_int, as_token_array

Batch = tuple[np.ndarray, np.ndarray]


def _as_generator(seed, name: str = "seed") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None, got {type(seed).__name__} {seed!r}")


class DataLoader:
    """Iterate a dataset in batches `(x, y)`, each int64 of shape (batch_size, max_length).

    The order is 0..len(dataset)-1, or with shuffle=True a fresh permutation per epoch (per call
    to `iter`), drawn as `rng.permutation(len(dataset))` from `np.random.default_rng(seed)`;
    the same seed gives the same sequence of epochs. drop_last drops a final short batch.
    Works on a SlidingWindowDataset (fast path: one gather per batch) or on any dataset whose
    items are (x, y) pairs of equal shape (stacked, like torch's default collate).

    >>> ds = SlidingWindowDataset(np.arange(10), max_length=4, stride=2)
    >>> [x.shape for x, y in DataLoader(ds, batch_size=2)]
    [(2, 4), (1, 4)]
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | np.random.Generator | None = None) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"dataset must support len() and indexing, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = _as_generator(seed)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self) -> np.ndarray:
        """The window order of the next epoch (consumes one permutation when shuffling).

        Equal to `rng.permutation(len(dataset))`, held as int32 when that fits: the one O(N)
        allocation of an epoch (400 MB for 100M windows), which sequential epochs do without.
        """
        n = len(self.dataset)
        order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        if self.shuffle:
            self._rng.shuffle(order)  # the same swaps as rng.permutation(n), whatever the dtype
        return order

    def __iter__(self) -> Iterator[Batch]:
        n, b = len(self.dataset), self.batch_size
        stop = len(self) * b
        if not self.shuffle:  # windows in order: batch i is the slice [i*b, (i+1)*b), no index array
            for start in range(0, min(stop, n), b):
                yield self._collate(slice(start, min(start + b, n)))
            return
        order = self.order()
        for start in range(0, min(stop, n), b):
            yield self._collate(order[start:start + b])

    def _collate(self, indices: np.ndarray | slice) -> Batch:
        if isinstance(self.dataset, SlidingWindowDataset):
            spans = self.dataset._spans  # (N, T + 1) strided view
            x, y = spans[indices, :-1], spans[indices, 1:]  # (B, T) each: copies if indices is an array
            if isinstance(indices, slice) or x.dtype != np.int64:  # views (or narrow ints) -> fresh int64
                x, y = x.astype(np.int64), y.astype(np.int64)
            return x, y
        if isinstance(indices, slice):
            indices = range(*indices.indices(len(self.dataset)))
        items = [self.dataset[int(i)] for i in indices]
        x = np.stack([np.asarray(item[0]) for item in items]).astype(np.int64, copy=False)
        y = np.stack([np.asarray(item[1]) for item in items]).astype(np.int64, copy=False)
        return x, y

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} windows, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed!r})")


def _resolve_encoding(encoding):
    """An encoding name -> minembed.get_encoding(name); anything with `encode` passes through."""
    if isinstance(encoding, str):
        from minembed.tokenizers.registry import get_encoding  # imported late: loads rank files

        return get_encoding(encoding)
    if not hasattr(encoding, "encode"):
        raise TypeError(
            f"encoding must be an encoding name such as 'gpt2' or an object with an encode method, "
            f"got {type(encoding).__name__}"
        )
    return encoding


def _encode_text(text: str, encoding) -> np.ndarray:
    """Token ids of text with <|endoftext|> allowed as a special token, as the course encodes."""
    from minembed.tokenizers.simple import SimpleTokenizer

    if isinstance(encoding, SimpleTokenizer):
        return np.asarray(encoding.encode(text), dtype=np.uint32)
    specials = getattr(encoding, "special_tokens_set", {"<|endoftext|>"})
    allowed = {"<|endoftext|>"} & set(specials)
    return np.asarray(encoding.encode(text, allowed_special=allowed), dtype=np.uint32)


def create_dataloader(text: str, *, encoding="gpt2", batch_size: int = 4, max_length: int = 256,
                      stride: int = 128, shuffle: bool = True, drop_last: bool = True,
                      seed: int | np.random.Generator | None = None) -> DataLoader:
    """Text -> token ids (`encoding`, a name or an Encoding/SimpleTokenizer) -> windows -> batches.

    The one-call path of the course's create_dataloader_v1; "<|endoftext|>" in the text is
    encoded as the special token.

    >>> loader = create_dataloader(text, batch_size=8, max_length=4, stride=4, shuffle=False)  # doctest: +SKIP
    >>> x, y = next(iter(loader))  # (8, 4) int64 each; y is x shifted by one token
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}; for token ids use SlidingWindowDataset")
    ids = _encode_text(text, _resolve_encoding(encoding))
    dataset = SlidingWindowDataset(ids, max_length=max_length, stride=stride)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)


def random_batch(tokens, batch_size: int, block_size: int,
                 rng: np.random.Generator | int | None = None) -> Batch:
    """nanoGPT's get_batch: batch_size windows at uniform random offsets into a token array.

    Offsets are `rng.integers(0, len(tokens) - block_size, size=batch_size)`; x = tokens[o:o+T],
    y = tokens[o+1:o+1+T]. Returns int64 arrays of shape (batch_size, block_size). Works on a
    memmap without reading more than the batch.

    >>> x, y = random_batch(np.arange(100), batch_size=2, block_size=4, rng=np.random.default_rng(0))
    >>> bool((y - x == 1).all())
    True
    """
    ids = as_token_array(tokens, "tokens")
    batch_size = _check_positive_int(batch_size, "batch_size")
    block_size = _check_positive_int(block_size, "block_size")
    if len(ids) <= block_size:
        raise ValueError(
            f"too few tokens: got {len(ids)} tokens but block_size={block_size} needs at least {block_size + 1}"
        )
    generator = _as_generator(rng, "rng")
    offsets = generator.integers(0, len(ids) - block_size, size=batch_size)  # (B,)
    spans = sliding_window_view(ids, block_size + 1)  # (N, T + 1) view, nothing read yet
    x = spans[offsets, :-1].astype(np.int64, copy=False)  # (B, T)
    y = spans[offsets, 1:].astype(np.int64, copy=False)  # (B, T)
    return x, y
