"""Batches of training windows: DataLoader, create_dataloader and nanoGPT-style random_batch.

Batches come from NumPy gathers over the strided window view, not from B separate tensors
stacked together, which is why iterating is fast. They are int64 arrays of shape (B, T) by
default, like the tensors torch's DataLoader yields over GPTDatasetV1 and nanoGPT's get_batch
returns (uint16 ids would silently wrap around in arithmetic); `dtype=None` keeps the token dtype.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from minembed.data.windows import SlidingWindowDataset, _check_positive_int, as_token_array, is_token_sequence
from minembed.tokenizers.registry import as_encoding

Batch = tuple[np.ndarray, np.ndarray]


def _numpy_or_torch_stream(seed, generator, seed_name: str = "seed"):
    """(numpy Generator, None) for the NumPy stream of seed=, else (None, minembed.random.Generator or None).

    A minembed.random.Generator passed as seed= counts as generator=.
    """
    from minembed.random import Generator
    from minembed.random.sampling import resolve_generator

    if isinstance(seed, Generator) and generator is None:
        seed, generator = None, seed
    if seed is not None and generator is not None:
        raise ValueError(f"pass either {seed_name}= (NumPy's stream) or generator= (torch's stream), not both")
    if seed is not None:
        return _as_generator(seed, seed_name), None
    resolve_generator(generator)  # a clear error for a wrong type
    return None, generator


def _as_generator(seed, name: str = "seed") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None, got {type(seed).__name__} {seed!r}")


class DataLoader:
    """Iterate a dataset in batches `(x, y)` of shape (batch_size, max_length), int64 by default.

    The order is 0..len(dataset)-1, or with shuffle=True a fresh permutation per epoch (per call
    to `iter`), the one torch's DataLoader(shuffle=True) gives: `iter()` draws the base seed
    torch draws for its workers, the first batch draws the sampler's seed, both from the default
    generator (seeded by minembed.manual_seed, like torch.manual_seed); with `generator=` (a
    minembed.random.Generator) both come from it, as with torch's `generator=`, epoch after epoch.
    `seed=` (an int or a numpy.random.Generator) keeps the NumPy order instead (not torch's):
    `rng.permutation(len(dataset))` with `rng = np.random.default_rng(seed)`, the same seed giving
    the same sequence of epochs. drop_last drops a final short batch.
    `dtype=None` keeps the token array's dtype (uint16 from a token file: a quarter of the bytes).
    Works on a SlidingWindowDataset (fast path, below) or on any dataset whose items are (x, y)
    pairs of equal shape (stacked, like torch's default collate).

    >>> ds = SlidingWindowDataset(np.arange(10), max_length=4, stride=2)
    >>> [x.shape for x, y in DataLoader(ds, batch_size=2)]
    [(2, 4), (1, 4)]
    """

    # Fast path: the windows of several batches (about this many tokens) are gathered in one
    # NumPy call and each batch is a C-contiguous slice of that block. Measured on 20k windows
    # of 256 tokens, batch 8: one gather per batch cost ~5 us (fancy index + astype per batch),
    # a block of 32 batches ~1 us per batch; torch's DataLoader over GPTDatasetV1 ~20-25 us.
    _BLOCK_TOKENS = 1 << 16

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
        *,
        dtype: npt.DTypeLike | None = np.int64,
        generator=None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"dataset must support len() and indexing, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.dtype = None if dtype is None else np.dtype(dtype)
        if self.dtype is not None and not np.issubdtype(self.dtype, np.integer):
            raise TypeError(f"dtype must be an integer dtype such as np.int64 (or None), got {self.dtype}")
        self._rng, self.generator = _numpy_or_torch_stream(seed, generator)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self) -> np.ndarray:
        """The window order of an epoch as torch's RandomSampler makes it (consumes its draws).

        torch's: with no generator, a seed drawn from the default generator seeds a fresh private
        generator that runs randperm(n); with generator=, randperm(n) from it. With seed=, NumPy's
        `rng.permutation(len(dataset))`. Held as int32 when that fits: the one O(N) allocation of
        a shuffled epoch (400 MB for 100M windows); sequential epochs skip it.
        """
        n = len(self.dataset)
        if self.shuffle and self._rng is None:
            from minembed.random import Generator, randperm

            if self.generator is None:
                private = Generator().manual_seed(_draw_int64(None))
                return _narrow(randperm(n, generator=private))
            return _narrow(randperm(n, generator=self.generator))
        order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        if self.shuffle:
            self._rng.shuffle(order)  # the same swaps as rng.permutation(n), whatever the dtype
        return order

    def __iter__(self) -> Iterator[Batch]:
        if self.shuffle and self._rng is None:
            # torch's loader iterator draws a base seed for its workers when it is created (from the
            # loader's generator, else the default one). No workers here, but the draw keeps the stream.
            _draw_int64(self.generator)
        return self._batches()

    def _batches(self) -> Iterator[Batch]:
        b = self.batch_size
        used = min(len(self) * b, len(self.dataset))  # windows this epoch yields
        order = self.order() if self.shuffle else None  # None: windows in order, sliced, no index array
        if not isinstance(self.dataset, SlidingWindowDataset):
            for start in range(0, used, b):
                rows = range(start, min(start + b, used)) if order is None else order[start : start + b]
                yield self._stack(rows)
            self._after_epoch()
            return
        spans = self.dataset._spans  # (N, T + 1) strided view of the token array
        block = b * max(1, self._BLOCK_TOKENS // (b * spans.shape[1]))  # whole batches per gather
        for first in range(0, used, block):
            last = min(first + block, used)
            rows = spans[first:last] if order is None else spans[order[first:last]]  # (k, T + 1)
            x_block = np.array(rows[:, :-1], dtype=self.dtype or rows.dtype)  # (k, T), C-contiguous copy
            y_block = np.array(rows[:, 1:], dtype=self.dtype or rows.dtype)  # (k, T)
            for start in range(0, last - first, b):
                yield x_block[start : start + b], y_block[start : start + b]
        self._after_epoch()

    def _after_epoch(self) -> None:
        """What torch's RandomSampler still does once its permutation is used up: run
        randperm(n)[:0] (num_samples % n == 0), which advances a generator given as generator=."""
        if self.shuffle and self._rng is None and self.generator is not None and len(self.dataset) > 0:
            from minembed.random import randperm

            randperm(len(self.dataset), generator=self.generator)

    def _stack(self, rows) -> Batch:
        items = [self.dataset[int(i)] for i in rows]
        x = np.stack([np.asarray(item[0]) for item in items])
        y = np.stack([np.asarray(item[1]) for item in items])
        if self.dtype is not None:
            x, y = x.astype(self.dtype, copy=False), y.astype(self.dtype, copy=False)
        return x, y

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} windows, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed!r}, generator={self.generator!r})"
        )


def _draw_int64(generator) -> int:
    """torch.empty((), dtype=torch.int64).random_(generator=generator).item(): random64() % 2**63."""
    from minembed.random.sampling import resolve_generator

    return int(resolve_generator(generator).random_words64(1)[0] % np.uint64(2**63))


def _narrow(order: np.ndarray) -> np.ndarray:
    return order.astype(np.int32) if len(order) < 2**31 else order


def _encode_text(text: str, encoding) -> np.ndarray:
    """Token ids of text with <|endoftext|> allowed as a special token, as the course encodes."""
    from minembed.tokenizers.simple import SimpleTokenizer

    if isinstance(encoding, SimpleTokenizer):
        return np.asarray(encoding.encode(text), dtype=np.uint32)
    specials = getattr(encoding, "special_tokens_set", {"<|endoftext|>"})
    allowed = {"<|endoftext|>"} & set(specials)
    return np.asarray(encoding.encode(text, allowed_special=allowed), dtype=np.uint32)


def create_dataloader(
    text: str,
    *,
    encoding="gpt2",
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    seed: int | np.random.Generator | None = None,
    generator=None,
) -> DataLoader:
    """Text -> token ids (`encoding`, a name or an Encoding/SimpleTokenizer) -> windows -> batches.

    The one-call path of the course's create_dataloader_v1; "<|endoftext|>" in the text is
    encoded as the special token. The shuffled order is torch's (see DataLoader): after
    minembed.manual_seed(123) the batches come in the order torch gives after torch.manual_seed(123).

    >>> text = "In the beginning was the word, and the word was with the tokenizer. " * 10
    >>> loader = create_dataloader(text, batch_size=8, max_length=4, stride=4, shuffle=False)
    >>> x, y = next(iter(loader))  # y is x shifted by one token
    >>> x.shape, y.shape, x.dtype, bool((x[:, 1:] == y[:, :-1]).all())
    ((8, 4), (8, 4), dtype('int64'), True)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}; for token ids use SlidingWindowDataset")
    ids = _encode_text(text, as_encoding(encoding))
    dataset = SlidingWindowDataset(ids, max_length=max_length, stride=stride)
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed, generator=generator
    )


def random_batch(
    tokens,
    batch_size: int,
    block_size: int,
    rng: np.random.Generator | int | None = None,
    *,
    dtype: npt.DTypeLike | None = np.int64,
    generator=None,
) -> Batch:
    """nanoGPT's get_batch: batch_size windows at uniform random offsets into a token array.

    Offsets are nanoGPT's `torch.randint(len(tokens) - block_size, (batch_size,))`, drawn from
    `generator` (a minembed.random.Generator; the default generator if None), the same offsets
    as torch's for the same seed. With rng= (an int or numpy.random.Generator) they are NumPy's
    `rng.integers(0, len(tokens) - block_size, size=batch_size)` instead; x = tokens[o:o+T],
    y = tokens[o+1:o+1+T]. Returns arrays of shape (batch_size, block_size), int64 unless
    `dtype` says otherwise (None keeps the tokens' dtype). Reads only the batch from a memmap;
    `tokens` may also be a TokenShards (several token files read as one).

    >>> x, y = random_batch(np.arange(100), batch_size=2, block_size=4, rng=np.random.default_rng(0))
    >>> bool((y - x == 1).all())
    True
    """
    ids = tokens if is_token_sequence(tokens) else as_token_array(tokens, "tokens")
    batch_size = _check_positive_int(batch_size, "batch_size")
    block_size = _check_positive_int(block_size, "block_size")
    if len(ids) <= block_size:
        raise ValueError(
            f"too few tokens: got {len(ids)} tokens but block_size={block_size} needs at least {block_size + 1}"
        )
    numpy_rng, generator = _numpy_or_torch_stream(rng, generator, "rng")
    if numpy_rng is not None:
        offsets = numpy_rng.integers(0, len(ids) - block_size, size=batch_size)  # (B,)
    else:
        from minembed.random import randint

        offsets = randint(len(ids) - block_size, (batch_size,), generator=generator)  # (B,)
    if is_token_sequence(ids):  # e.g. TokenShards: read the spans across its files
        rows = ids.gather_spans(offsets, block_size + 1)  # (B, T + 1)
    else:
        spans = sliding_window_view(ids, block_size + 1)  # (N, T + 1) view, nothing read yet
        rows = spans[offsets]  # (B, T + 1), the only tokens read
    x = np.array(rows[:, :-1], dtype=dtype or rows.dtype)  # (B, T), C-contiguous
    y = np.array(rows[:, 1:], dtype=dtype or rows.dtype)  # (B, T)
    return x, y
