"""Pre-tokenization for BPE training: split a streamed corpus with the pattern, count distinct pieces.

BPE never merges across two pieces, so training only needs each distinct piece (as UTF-8
bytes) and how often it occurs. The corpus is read as a stream of texts, grouped into
batches of about a million characters, and the batches are split on a small thread pool:
the `regex` module releases the GIL while it matches when called with `concurrent=True`,
so two threads keep both cores busy. Memory stays at (distinct pieces + a few batches).

The counted pieces are then packed for the merge kernel as one flat int32 array of byte
values with int64 offsets, never as one Python list per piece.

>>> count_pieces(["hello world", "hello"], r"\\w+| \\w+")
{b'hello': 2, b' world': 1}
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import regex

# Characters per batch handed to one thread: big enough to amortise the hand-off, small
# enough that a few batches in flight cost little memory.
BATCH_CHARS = 1 << 20


def _batches(texts: str | Iterable[str]) -> Iterator[list[str]]:
    """Group the texts into lists of about BATCH_CHARS characters (a long text is its own batch)."""
    if isinstance(texts, str):
        yield [texts]
        return
    batch: list[str] = []
    size = 0
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"texts must be a str or an iterable of str, but item {i} is {type(text).__name__}: "
                f"{text!r:.60}; decode bytes first, e.g. `data.decode('utf-8')`"
            )
        batch.append(text)
        size += len(text)
        if size >= BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _special_splitter(special_tokens: Iterable[str]) -> Callable[[str], list[str]] | None:
    """A function that cuts a text at every special token (dropping them), or None if there are none."""
    specials = sorted(set(special_tokens), key=len, reverse=True)  # longest first wins overlaps
    if not specials:
        return None
    return regex.compile("|".join(regex.escape(s) for s in specials)).split


def _count_batch(batch: list[str], pattern: regex.Pattern, split_specials) -> Counter:
    counter: Counter = Counter()
    for text in batch:
        for segment in (split_specials(text) if split_specials else (text,)):
            counter.update(pattern.findall(segment, concurrent=True))
    return counter


def count_pieces(
    texts: str | Iterable[str],
    pat_str: str,
    *,
    special_tokens: Iterable[str] = (),
    num_threads: int = 2,
    progress: Callable[[int], object] | None = None,
) -> dict[bytes, int]:
    """{piece as UTF-8 bytes: count} over every text split with `pat_str`.

    Occurrences of `special_tokens` are cut out first, so no piece spans or contains one.
    `progress`, if given, is called with the number of pieces counted in each batch.
    """
    pattern = regex.compile(pat_str)
    split_specials = _special_splitter(special_tokens)
    total: Counter = Counter()

    def collect(future: Future) -> None:
        counter = future.result()
        total.update(counter)
        if progress is not None:
            progress(sum(counter.values()))

    with ThreadPoolExecutor(max_workers=max(1, num_threads)) as pool:
        pending: list[Future] = []
        try:
            for batch in _batches(texts):
                pending.append(pool.submit(_count_batch, batch, pattern, split_specials))
                while len(pending) > 2 * num_threads:  # bound the batches held in memory
                    collect(pending.pop(0))
            while pending:
                collect(pending.pop(0))
        finally:
            for future in pending:
                future.cancel()
    try:
        return {piece.encode("utf-8"): count for piece, count in total.items()}
    except UnicodeEncodeError as exc:  # lone surrogates have no UTF-8 form (rustbpe raises too)
        raise UnicodeEncodeError(
            exc.encoding, exc.object, exc.start, exc.end,
            f"{exc.reason}: texts hold a lone surrogate in the piece {exc.object!r}; "
            "clean the text first, e.g. `text.encode('utf-8', 'replace').decode('utf-8')`",
        ) from None


def pack_pieces(piece_counts: dict[bytes, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten {piece: count} into (tokens (T,) int32, offsets (P+1,) int64, counts (P,) int64).

    Piece i is `tokens[offsets[i]:offsets[i + 1]]` (its byte values). Pieces are sorted, so
    the result does not depend on the order in which the corpus was read.
    """
    pieces = sorted(piece_counts)
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tokens = np.frombuffer(b"".join(pieces), dtype=np.uint8).astype(np.int32)
    counts = np.fromiter((piece_counts[p] for p in pieces), dtype=np.int64, count=len(pieces))
    return tokens, offsets, counts
