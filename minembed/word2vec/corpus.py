"""Where sentences come from, and how they become training batches.

A corpus is one of:
- an iterable of token lists (re-iterated once per pass, so a list or a restartable iterator),
- a path to a text file, one sentence per line, tokens separated by whitespace (streamed line
  by line on every pass, never held in memory),
- an integer array of token ids from minembed's tokenizers: 1-D is one long sentence, 2-D is
  one sentence per row.

A training batch holds about `batch_words` words: the in-vocabulary ids of a few sentences back
to back (int32), after subsampling, and segments (S, 4) int64 rows (context_start, start, stop,
context_stop). A sentence longer than a batch is cut into segments whose contexts overlap by a
window, so no word is dropped and no window is cut (gensim silently truncates sentences at
10,000 words).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np

from minembed.word2vec.kernels.subsample import subsample

BATCH_WORDS = 10_000


def check_corpus(corpus) -> object:
    """Return the corpus if it is one of the accepted kinds, else raise a clear error."""
    if corpus is None:
        raise ValueError("no corpus: pass sentences (token lists, a file path or a token-id array)")
    if isinstance(corpus, (str, os.PathLike)):
        if not os.path.isfile(corpus):
            raise FileNotFoundError(
                f"sentences={os.fspath(corpus)!r} is not a file; pass a text file with one "
                "sentence per line, or the sentences themselves as lists of tokens"
            )
        return corpus
    if isinstance(corpus, np.ndarray):
        if corpus.dtype.kind not in "iu" or corpus.ndim not in (1, 2):
            raise TypeError(
                f"a token-id array must be 1-D or 2-D integer, got dtype {corpus.dtype} and shape {corpus.shape}"
            )
        return corpus
    if isinstance(corpus, (bytes, dict)) or not isinstance(corpus, Iterable):
        raise TypeError(
            f"sentences must be an iterable of token lists, a file path or a token-id array, "
            f"got {type(corpus).__name__}"
        )
    if isinstance(corpus, Iterator):
        raise TypeError(
            "sentences is a one-shot iterator, but training reads the corpus once per epoch (plus once "
            "for the vocabulary): pass a list, or an object whose __iter__ starts over"
        )
    return corpus


def token_sentences(corpus) -> Iterator:
    """Every sentence as a sequence of tokens (str for text, int for id arrays)."""
    if isinstance(corpus, (str, os.PathLike)):
        with open(corpus, encoding="utf-8") as lines:
            for line in lines:
                yield line.split()
    elif isinstance(corpus, np.ndarray):
        rows = corpus[None, :] if corpus.ndim == 1 else corpus
        for row in rows:
            yield row.tolist()
    else:
        for number, sentence in enumerate(corpus):
            if isinstance(sentence, (str, bytes)):
                raise TypeError(
                    f"sentence #{number} is a {type(sentence).__name__}, not a list of tokens: "
                    "split it first (e.g. line.split()), or pass the file's path instead"
                )
            yield sentence


@dataclass
class Batch:
    """One kernel call's work."""

    ids: np.ndarray  # (N,) int32
    segments: np.ndarray  # (S, 4) int64
    raw_words: float  # words of the corpus it stands for (for progress and the learning rate)
    alpha: float = 0.0
    seed: int = 0


def raw_batches(corpus, key_to_index: dict, batch_words: int = BATCH_WORDS) -> Iterator[tuple]:
    """(ids (N,) int32 with -1 for unknown words, offsets (S + 1,) int64, raw words) per ~batch_words."""
    if isinstance(corpus, np.ndarray):
        keys = np.array(list(key_to_index), dtype=np.int64) if key_to_index else np.zeros(0, np.int64)
        rows = corpus[None, :] if corpus.ndim == 1 else corpus
        top = max(int(rows.max(initial=0)), int(keys.max(initial=0))) + 1
        lookup = np.full(top, -1, np.int32)
        lookup[keys] = np.arange(len(keys), dtype=np.int32)
        width = rows.shape[1]
        step = max(1, batch_words // max(width, 1))  # rows per batch
        for first in range(0, rows.shape[0], step):
            chunk = rows[first : first + step]
            ids = lookup[chunk.astype(np.int64).ravel()]
            yield ids, np.arange(chunk.shape[0] + 1, dtype=np.int64) * width, ids.shape[0]
        return
    lookup = _IdLookup(key_to_index)
    flat: list = []
    lengths = [0]
    for sentence in token_sentences(corpus):
        flat += sentence  # the words themselves: mapping them is done once per batch, in C
        lengths.append(len(sentence))
        if len(flat) >= batch_words:
            yield lookup.ids(flat), np.cumsum(lengths), len(flat)
            flat, lengths = [], [0]
    if flat:
        yield lookup.ids(flat), np.cumsum(lengths), len(flat)


def sentence_ids(sentences, key_to_index: dict) -> tuple[np.ndarray, np.ndarray]:
    """A list of token lists as (ids (N,) int32, -1 for unknown words; offsets (S + 1,) int64), in
    two C-level passes (lengths, then every word through the dictionary).

    >>> ids, offsets = sentence_ids([["a", "b"], [], ["b", "z"]], {"a": 0, "b": 1})
    >>> ids.tolist(), offsets.tolist()
    ([0, 1, 1, -1], [0, 2, 2, 4])
    """
    offsets = np.zeros(len(sentences) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, token_sentences(sentences)), np.int64, count=len(sentences)), out=offsets[1:])
    words = chain.from_iterable(sentences)
    ids = np.fromiter(map(_IdLookup(key_to_index).__getitem__, words), np.int32, count=int(offsets[-1]))
    return ids, offsets


def batch_bounds(offsets: np.ndarray, batch_words: int = BATCH_WORDS) -> np.ndarray:
    """Sentence indices (B + 1,) int64 that cut a corpus with sentence offsets (S + 1,) into raw
    batches as raw_batches cuts a stream: a batch ends with the sentence that brings it to at
    least batch_words words (so an in-memory corpus and the same text streamed train alike).

    >>> batch_bounds(np.array([0, 4, 9, 10, 16]), batch_words=5).tolist()
    [0, 2, 4]
    """
    bounds, start = [0], 0
    for s, end in enumerate(offsets[1:].tolist()):
        if end - start >= batch_words:
            bounds.append(s + 1)
            start = end
    if bounds[-1] != len(offsets) - 1:
        bounds.append(len(offsets) - 1)
    return np.array(bounds, np.int64)


class _IdLookup(dict):
    """word -> index, -1 for unknown words; ids(words) maps a whole list with one C-level call."""

    def __missing__(self, word) -> int:
        return -1

    def ids(self, words: list) -> np.ndarray:
        if len(words) == 1:
            return np.array([self[words[0]]], np.int32)
        return np.array(itemgetter(*words)(self), np.int32)


def training_batches(
    raw, sample_ints, sample: bool, seeds: Iterator[int], window: int, batch_words: int = BATCH_WORDS
) -> Iterator[Batch]:
    """Drop unknown words, subsample, cut into segments of at most batch_words centres."""
    ids, offsets, raw_words = raw
    known = ids >= 0
    kept_before = np.concatenate([[0], np.cumsum(known)])
    ids, offsets = ids[known], kept_before[offsets]
    if sample:
        ids, offsets = subsample(ids, offsets, sample_ints, next(seeds))
    starts, stops = offsets[:-1], offsets[1:]
    nonempty = stops > starts
    starts, stops = starts[nonempty], stops[nonempty]
    if starts.shape[0] == 0:
        return
    if int((stops - starts).max()) <= batch_words:  # the usual case: every sentence is one segment
        segments = np.column_stack([starts, starts, stops, stops])
    else:
        segments = np.array(_cut_long_sentences(starts.tolist(), stops.tolist(), window, batch_words), np.int64)
    centres = segments[:, 2] - segments[:, 1]
    per_centre = raw_words / int(centres.sum())
    if int(centres.sum()) <= 2 * batch_words and centres.shape[0] > 0 and int(centres.max()) < batch_words:
        groups = [(0, len(segments))]  # a raw batch's sentences fit in one kernel call
    else:
        groups = _group_segments(centres.tolist(), batch_words)
    for first, last in groups:
        group = segments[first:last]
        lo, hi = int(group[:, 0].min()), int(group[:, 3].max())
        yield Batch(ids[lo:hi], group - lo, per_centre * int(centres[first:last].sum()))


def _cut_long_sentences(starts, stops, window, batch_words) -> list:
    """Segments of at most batch_words centres; a long sentence's segments see a window of context
    on each side, so every centre keeps its whole window."""
    segments = []
    for start, stop in zip(starts, stops):
        for cut in range(start, stop, batch_words):
            segments.append(
                (max(start, cut - window), cut, min(stop, cut + batch_words), min(stop, cut + batch_words + window))
            )
    return segments


def _group_segments(centres: list, batch_words: int) -> list:
    """Consecutive runs of segments with about batch_words centres each: [(first, last), ...]."""
    groups, first, total = [], 0, 0
    for s, size in enumerate(centres):
        if total + size > batch_words and total > 0:
            groups.append((first, s))
            first, total = s, 0
        total += size
    groups.append((first, len(centres)))
    return groups
