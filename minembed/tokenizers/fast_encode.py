"""The Numba encoder behind `Encoding.encode` for the registered split patterns.

`NumbaEncoder.for_pattern(pat_str, ...)` returns an encoder when `pat_str` is, character for
character, a pattern registered in `minembed.text.patterns` (gpt2 / r50k_base, cl100k_base,
o200k_base, GPT-4; never decided by an encoding's name), and None for any other pattern,
which keeps using the `regex` module. The encoder splits with the matchers of
`minembed.text.kernels.split`, looks each piece up in a hash table of the token bytes, and
BPE-merges the rest, all in one Numba call per batch of texts (`tokenizers.kernels.encode`).
A short text takes `encode_one` instead, a kernel made for a low cost per call (three arguments:
the text's bytes, one blob of every table, a per-thread scratch); `encode_many` spreads a batch over
two threads.

>>> ranks = {b"a": 0, b"b": 1, b"ab": 2, b" ": 3}
>>> enc = NumbaEncoder.for_pattern(GPT2_SPLIT_PATTERN, ranks, MergeTable.from_ranks(ranks))
>>> enc.encode([b"ab ba", b"b"])  # pieces "ab", " ba" | "b"; " ba" is merged from its bytes
(array([2, 3, 1, 0, 1], dtype=uint32), array([4, 5]), 1)
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from minembed import _threads
from minembed.text.classes import char_classes
from minembed.text.patterns import GPT2_SPLIT_PATTERN, pattern_id
from minembed.tokenizers.kernels import encode as kernels
from minembed.tokenizers.merges import MergeTable

__all__ = ["GPT2_SPLIT_PATTERN", "MergeTable", "NumbaEncoder", "TokenTable"]

# Texts up to this many UTF-8 bytes take `encode_one` (a per-thread scratch buffer, no `seen`
# table); longer ones `encode_texts`, whose `seen` table merges each distinct piece once. The two
# kernels alone took the same time (0.9-1.15x, noise) on 1-32 kB pieces of War and Peace.
SHORT_TEXT_BYTES = 1 << 13
# encode_many on two threads cuts the batch into this many parts per thread (by bytes). Both threads
# run the kernel on parts, taking the next free one each time, but only the calling thread turns ids
# into lists, which holds the GIL (20k paragraphs, one thread: kernel 140-175 ms, lists 95 ms): the
# helper never waits for the GIL, and the caller fills its lists in while the helper's kernel runs.
# More parts balance the two better but are not free: each kernel call merges the distinct pieces
# of its own part (`seen` lives for one call); the paragraphs cut into 8 calls took 1.05-1.1x one call.
_PARTS_PER_THREAD = 4
# `encode(..., reuse_buffer=True)` writes ids into a per-thread buffer that is kept between calls when
# the texts hold at most this many bytes (the buffer takes 4 bytes per text byte: 4 MiB at most).
# A fresh buffer per call pays a page fault per 4 KiB it touches (an mmap and munmap each time where
# malloc's mmap threshold is fixed, as on Dask workers, which set MALLOC_TRIM_THRESHOLD_), and a
# result that is a view of it keeps the whole text-sized buffer alive: callers copy the ids out.
_KEPT_BUFFER_BYTES = 1 << 20


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


def pack_blob(tables: np.ndarray, classes: np.ndarray, arena: np.ndarray) -> np.ndarray:
    """The (B,) uint8 blob that `kernels.encode.encode_one` reads: the bytes of tables (T,) int64, of the
    character classes (N_CODE_POINTS,) uint16 and of the token bytes arena (A,) uint8, in that order.

    tables[1 + len(TABLE_SECTIONS)] must be T (the kernel finds the classes with it). The blob is
    writable: Numba's dispatcher types a read-only array argument on a slower path.
    """
    parts = (tables.view(np.uint8), classes.view(np.uint8), arena)
    blob = np.empty(sum(p.shape[0] for p in parts), dtype=np.uint8)
    at = 0
    for p in parts:
        blob[at : at + p.shape[0]] = p
        at += p.shape[0]
    return blob


def _lists_of_texts(ids: np.ndarray, text_ends: np.ndarray) -> list[list[int]]:
    """[ids of text k as a list] from the kernel's ids (N,) and text_ends (K,)."""
    bounds = [0, *text_ends.tolist()]
    # One tolist per text: 25% less time under the GIL than one tolist and then a slice per text
    # (which makes every int reference twice), measured on 20k paragraphs.
    return [ids[a:b].tolist() for a, b in itertools.pairwise(bounds)]


class NumbaEncoder:
    """Encodes UTF-8 texts with one of the Numba matchers; holds the tables, immutable, thread-safe.

    The tables live in one int64 array (`tables`, see `kernels.encode.TABLE_SECTIONS`), which is the
    front of one uint8 array (`blob`, see `pack_blob`) that also holds the character classes and the
    token bytes; `tokens`, `merges` and `tables` are views into it. Each thread gets its own scratch
    buffer for `encode_one` (threading.local), so an encoder can be shared.
    """

    def __init__(self, pattern: int, tokens: TokenTable, merges: MergeTable) -> None:
        self.pattern = pattern
        self.classes = char_classes()
        sections = [tokens.slots, tokens.starts, tokens.ranks, tokens.hashes, merges.byte_ranks, merges.pairs]
        header = 2 + len(sections)
        bounds = np.cumsum([header] + [len(a) for a in sections])
        tables = np.empty(bounds[-1], dtype=np.int64)
        tables[0] = pattern
        tables[1:header] = bounds
        for a, lo, hi in zip(sections, bounds[:-1], bounds[1:]):
            tables[lo:hi] = a
        self.blob = pack_blob(tables, self.classes, tokens.arena)
        self.tables = self.blob[: tables.nbytes].view(np.int64)
        views = [self.tables[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
        arena = self.blob[tables.nbytes + self.classes.nbytes :]
        self.tokens = TokenTable(views[0], arena, *views[1:4])
        self.merges = MergeTable(*views[4:])
        self._scratch = threading.local()

    @classmethod
    def for_pattern(cls, pat_str: str, mergeable_ranks: Mapping[bytes, int], merges: MergeTable) -> NumbaEncoder | None:
        """An encoder if `pat_str` is exactly a registered pattern, else None."""
        pattern = pattern_id(pat_str)
        if pattern is None:
            return None
        return cls(pattern, TokenTable.from_ranks(mergeable_ranks), merges)

    def encode_one(self, text: bytes) -> tuple[list[int], int]:
        """(ids, number of ids of the last piece) of one valid UTF-8 text."""
        if len(text) > SHORT_TEXT_BYTES:
            ids, _, n_last = self.encode([text], reuse_buffer=True)
            return ids.tolist(), n_last
        try:
            scratch, ids = self._scratch.buffers
        except AttributeError:  # first call on this thread
            scratch, ids = self._new_scratch()
        n_ids = kernels.encode_one(text, self.blob, scratch)
        return ids[:n_ids].tolist(), int(scratch[-1])

    def encode_ids(self, text: bytes) -> list[int]:
        """The ids of one valid UTF-8 text (`encode_one` without the count of the last piece's ids)."""
        if len(text) > SHORT_TEXT_BYTES:
            return self.encode([text], reuse_buffer=True)[0].tolist()
        try:
            scratch, ids = self._scratch.buffers
        except AttributeError:  # first call on this thread
            scratch, ids = self._new_scratch()
        return ids[: kernels.encode_one(text, self.blob, scratch)].tolist()

    def _kept_buffer(self, n_bytes: int) -> np.ndarray:
        """A (>= n_bytes,) uint32 buffer for ids: this thread's kept one when n_bytes is small enough, else new."""
        if n_bytes > _KEPT_BUFFER_BYTES:
            return np.empty(n_bytes, dtype=np.uint32)
        buffer = getattr(self._scratch, "out_ids", None)
        if buffer is None or buffer.shape[0] < n_bytes:
            # Grow in doublings from 64 KiB of text, so a thread keeps at most a few sizes over its life.
            buffer = np.empty(max(1 << 16, 1 << (n_bytes - 1).bit_length()), dtype=np.uint32)
            self._scratch.out_ids = buffer
        return buffer

    def _new_scratch(self) -> tuple[np.ndarray, memoryview]:
        """This thread's scratch buffer for `kernels.encode_one`, and a memoryview of it (on which slicing and
        `tolist()` cost ~100 ns less than on the array: a loop over short lines calls them once per line)."""
        scratch = np.empty(2 * SHORT_TEXT_BYTES + 2 * kernels.SCRATCH_PER_MERGE + 1, dtype=np.int64)
        self._scratch.buffers = (scratch, memoryview(scratch))
        return self._scratch.buffers

    def encode_many(self, texts: list[bytes], threads: int = 1) -> list[list[int]]:
        """The ids of each valid UTF-8 text, in order, on 1 or 2 threads (this one and a helper)."""
        if threads <= 1 or len(texts) < 2:
            return self._encode_part(texts)
        n_parts = min(len(texts), threads * _PARTS_PER_THREAD)
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        # Cut by bytes, not by count: part j ends at the first text reaching (j + 1) / n_parts of the bytes.
        cuts = np.searchsorted(ends, ends[-1] * np.arange(1, n_parts) // n_parts, side="right").tolist()
        bounds = sorted({0, *cuts, len(texts)})
        parts = [texts[a:b] for a, b in itertools.pairwise(bounds)]
        lists: list[list[list[int]] | None] = [None] * len(parts)
        from_helper: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(parts)  # ids, text_ends
        parts_left = _threads.shared_indices(len(parts))  # each part is taken once, by one thread or the other

        def encode_parts(worker: int) -> None:
            if worker == 0:  # the helper: the kernel only (on the helper itself, on_both runs just this)
                self._encode_parts_for_later(parts, parts_left, from_helper)
                return
            try:
                for j in _threads.take_until_empty(parts_left):
                    lists[j] = self._encode_part(parts[j])
                    self._lists_of_finished(from_helper, lists)
            except BaseException:
                for _ in _threads.take_until_empty(parts_left):  # the helper stops after its current part
                    pass
                raise

        _threads.on_both(encode_parts)
        self._lists_of_finished(from_helper, lists)
        return list(itertools.chain.from_iterable(lists))

    def _encode_parts_for_later(
        self, parts: list[list[bytes]], parts_left: queue.SimpleQueue, from_helper: list
    ) -> None:
        """On the helper: run the kernel on the next free part until none is left; no lists, no GIL."""
        for j in _threads.take_until_empty(parts_left):
            ids, text_ends, _ = self.encode(parts[j])  # a fresh buffer: the caller reads it later
            from_helper[j] = (ids, text_ends)

    @staticmethod
    def _lists_of_finished(from_helper: list, lists: list) -> None:
        """Turn the ids of every part the helper has finished into lists (then drop its arrays)."""
        for j, done in enumerate(from_helper):
            if done is not None:
                lists[j] = _lists_of_texts(*done)
                from_helper[j] = None

    def _encode_part(self, texts: list[bytes]) -> list[list[int]]:
        """The ids of each text, one kernel call for all of them."""
        ids, text_ends, _ = self.encode(texts, reuse_buffer=True)
        return _lists_of_texts(ids, text_ends)

    def encode(self, texts: list[bytes], *, reuse_buffer: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids (N,) uint32, text_ends (K,) int64, ids of the last piece) for valid UTF-8 texts.

        Text k's ids are ids[text_ends[k-1]:text_ends[k]]. An id of 0xFFFFFFFF marks a byte
        that is not a token (only possible for encodings without all 256 single bytes).
        reuse_buffer=True: ids may be a view of this thread's kept buffer, valid only until the
        thread's next call; copy or convert it before then.
        """
        data = np.frombuffer(b"".join(texts), dtype=np.uint8)
        text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        out_ids = self._kept_buffer(data.shape[0]) if reuse_buffer else np.empty(data.shape[0], dtype=np.uint32)
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
            m.pairs,
            out_ids,
            out_text_ends,
        )
        n_ids = int(out_text_ends[-1]) if len(texts) else 0
        return out_ids[:n_ids], out_text_ends, int(n_last)
