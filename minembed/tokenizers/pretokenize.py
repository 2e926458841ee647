"""Pre-tokenization for BPE training: split a streamed corpus with the pattern, count distinct pieces.

BPE never merges across two pieces, so training only needs each distinct piece (as UTF-8
bytes) and how often it occurs. The corpus is read as a stream of texts and grouped into
batches of about a million characters. Memory stays at (distinct pieces + a few batches).

Two engines give the same counts:
- a pattern registered in `minembed.text.patterns` (the default GPT-4 pattern, gpt2,
  cl100k, o200k) runs in Numba (`tokenizers.kernels.count`, with the matchers of
  `minembed.text`): each batch is encoded to UTF-8, split and counted into a small per-thread
  hash table without creating a Python object per piece, on `num_threads` threads (the
  kernels release the GIL), and the per-thread tables are flushed into one shared table
  (so that each distinct piece is held once, not once per thread); one huge text is cut at the pattern's safe cut points
  (`minembed.text.cuts`) so that every thread gets work;
- any other pattern runs with the `regex` module (`findall` + `Counter`). Its matching
  needs the GIL for every piece it returns, so extra threads barely help there.

`count_pieces_packed` returns the flat layout the merge kernel takes: one int32 array of
byte values with int64 offsets, never one Python list per piece.

>>> count_pieces(["hello world", "hello"], r"\\w+| \\w+")
{b'hello': 2, b' world': 1}
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import regex

from minembed.text.classes import char_classes
from minembed.text.cuts import SafeCuts, safe_cuts
from minembed.text.patterns import pattern_id

# Characters per batch handed to one thread: big enough to amortise the hand-off, small
# enough that a few batches in flight cost little memory.
BATCH_CHARS = 1 << 18

# Distinct pieces a worker's own table collects before it is flushed into the shared table:
# a few MB per worker, and few enough flushes that re-hashing the flushed pieces costs little.
FLUSH_PIECES = 1 << 16


def _cut_long_text(text: str, cuts: SafeCuts) -> Iterator[str]:
    """`text` in parts of about BATCH_CHARS characters, cut only at the pattern's safe cut points."""
    start = 0
    while len(text) - start > 2 * BATCH_CHARS:
        cut = cuts.next_cut(text, start + BATCH_CHARS)
        if cut is None:
            break
        yield text[start:cut]
        start = cut
    yield text[start:]


def _batches(texts: str | Iterable[str], cuts: SafeCuts | None = None) -> Iterator[list[str]]:
    """Group the texts into lists of about BATCH_CHARS characters.

    A long text is its own batch, or, given the pattern's safe `cuts`, is cut into
    batch-sized parts there.
    """
    if isinstance(texts, str):
        texts = (texts,)
    batch: list[str] = []
    size = 0
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"texts must be a str or an iterable of str, but item {i} is {type(text).__name__}: "
                f"{text!r:.60}; decode bytes first, e.g. `data.decode('utf-8')`"
            )
        parts = _cut_long_text(text, cuts) if cuts is not None and len(text) > 2 * BATCH_CHARS else (text,)
        for part in parts:
            batch.append(part)
            size += len(part)
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
        for segment in split_specials(text) if split_specials else (text,):
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
            exc.encoding,
            exc.object,
            exc.start,
            exc.end,
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


# ---------------------------------------------------------------- the Numba engine (registered patterns)


class PieceTable:
    """Distinct pieces and their counts, in the arrays `tokenizers.kernels.count.add_pieces` grows."""

    def __init__(self) -> None:
        self.table = np.full(1 << 12, -1, dtype=np.int32)
        self.arena = np.empty(1 << 16, dtype=np.uint8)
        self.starts = np.zeros((1 << 11) + 1, dtype=np.int64)
        self.counts = np.zeros(1 << 11, dtype=np.int64)
        self.hashes = np.zeros(1 << 11, dtype=np.int64)
        self.n_pieces = 0

    def add(self, data: np.ndarray, piece_ends: np.ndarray, n_new: int, weights: np.ndarray) -> None:
        from minembed.tokenizers.kernels import count  # Numba, loaded on first use

        state = count.add_pieces(
            data,
            piece_ends,
            n_new,
            weights,
            self.table,
            self.arena,
            self.starts,
            self.counts,
            self.hashes,
            self.n_pieces,
        )
        self.table, self.arena, self.starts, self.counts, self.hashes, self.n_pieces = state

    def count(self, pattern: int, data: np.ndarray, text_ends: np.ndarray, classes: np.ndarray) -> int:
        """Split UTF-8 `data` (texts ending at `text_ends`) with `pattern` and count its pieces; returns how many."""
        from minembed.tokenizers.kernels import count

        *state, seen = count.count_pieces(
            pattern,
            data,
            text_ends,
            classes,
            self.table,
            self.arena,
            self.starts,
            self.counts,
            self.hashes,
            self.n_pieces,
        )
        self.table, self.arena, self.starts, self.counts, self.hashes, self.n_pieces = state
        return seen

    def add_table(self, other: PieceTable) -> None:
        n = other.n_pieces
        self.add(other.arena, other.starts[1 : n + 1], n, other.counts[:n])

    def packed_bytes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bytes (T,) uint8, offsets (P+1,) int64, counts (P,) int64), copied at their exact sizes.

        Exact copies rather than views, so that the table (its hash slots, hashes and the spare
        room of its grown arrays, about 2x the data) can be freed before the merge loop runs.
        """
        n = self.n_pieces
        return self.arena[: self.starts[n]].copy(), self.starts[: n + 1].copy(), self.counts[:n].copy()

    def packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n_pieces
        return (
            self.arena[: self.starts[n]].astype(np.int32),
            self.starts[: n + 1].copy(),
            self.counts[:n].copy(),
        )


_NO_WEIGHTS = np.zeros(0, dtype=np.int64)


def _count_batch_numba(table: PieceTable, pattern: int, batch: list[str], classes: np.ndarray, split_specials) -> int:
    """Split and count one batch into `table`; returns the number of pieces."""
    encoded = []
    for text in batch:
        for segment in split_specials(text) if split_specials else (text,):
            encoded.append(_utf8(segment))
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    text_ends = np.cumsum(np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded)))
    return table.count(pattern, data, text_ends, classes)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates have no UTF-8 form (rustbpe raises too)
        raise UnicodeEncodeError(
            exc.encoding,
            exc.object,
            exc.start,
            exc.end,
            f"{exc.reason}: texts hold a lone surrogate; clean the text first, "
            "e.g. `text.encode('utf-8', 'replace').decode('utf-8')`",
        ) from None


def _count_numba(texts, pat_str: str, special_tokens: list[str], num_threads: int, progress) -> PieceTable:
    """The threaded Numba engine: small per-worker tables flushed into one shared PieceTable."""
    pattern = pattern_id(pat_str)
    classes = char_classes()
    split_specials = _special_splitter(special_tokens)
    # a cut could fall inside a special token only if the token holds whitespace
    cuts = None if any(regex.search(r"\s", token) for token in special_tokens) else safe_cuts(pat_str)
    # One table holds the corpus's distinct pieces; each worker counts a batch into its own small
    # table and flushes it into the shared one (under a lock) once it holds FLUSH_PIECES pieces.
    # Per-worker tables that each grew to the whole vocabulary of the corpus would hold every
    # frequent piece once per thread: on a corpus of distinct text, that doubled the memory.
    shared = PieceTable()
    lock = threading.Lock()
    n_workers = max(1, num_threads)
    work: queue.Queue = queue.Queue(maxsize=n_workers)  # bounds the batches held in memory
    errors: list[BaseException] = []

    def flush(table: PieceTable) -> None:
        with lock:
            shared.add_table(table)

    def worker() -> None:
        table = PieceTable()
        while (batch := work.get()) is not None:
            if errors:
                continue  # drain the queue after a failure
            try:
                n = _count_batch_numba(table, pattern, batch, classes, split_specials)
                if table.n_pieces >= FLUSH_PIECES:
                    flush(table)
                    table = PieceTable()
                if progress is not None:
                    progress(n)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)
        if not errors:
            try:
                flush(table)
            except BaseException as exc:  # pragma: no cover - re-raised below
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(n_workers)]
    for thread in threads:
        thread.start()
    try:
        for batch in _batches(texts, cuts):
            if errors:
                break
            work.put(batch)
    finally:
        for _ in threads:
            work.put(None)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return shared


def count_pieces_packed(
    texts: str | Iterable[str],
    pat_str: str,
    *,
    special_tokens: Iterable[str] = (),
    num_threads: int = 2,
    progress: Callable[[int], object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pieces as (tokens (T,) int32, offsets (P+1,) int64, counts (P,) int64).

    Uses the Numba engine for a registered pattern, the `regex` module for any other. The
    order of the pieces is unspecified (BPE training does not depend on it).
    """
    if pattern_id(pat_str) is None:
        counts = count_pieces(texts, pat_str, special_tokens=special_tokens, num_threads=num_threads, progress=progress)
        return pack_pieces(counts)
    return _count_numba(texts, pat_str, list(special_tokens), num_threads, progress).packed()


def count_pieces_flat(
    texts: str | Iterable[str],
    pat_str: str,
    *,
    special_tokens: Iterable[str] = (),
    num_threads: int = 2,
    progress: Callable[[int], object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """count_pieces_packed with the piece bytes as they are counted: uint8 for a registered pattern.

    What training uses: the merge loop copies the bytes into int32 ids itself, so the int32 copy
    of `count_pieces_packed` (4 bytes per byte of every distinct piece) is never made.
    """
    if pattern_id(pat_str) is None:
        counts = count_pieces(texts, pat_str, special_tokens=special_tokens, num_threads=num_threads, progress=progress)
        return pack_pieces(counts)
    return _count_numba(texts, pat_str, list(special_tokens), num_threads, progress).packed_bytes()
