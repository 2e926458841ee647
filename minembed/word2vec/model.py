"""Word2Vec: skip-gram and CBOW on minembed.nn.Embedding tables, trained by Numba kernels.

The algorithm is gensim's (and word2vec.c's) so that results compare: see vocab.py (counting,
order, subsampling, negative table), huffman.py, corpus.py (batches, no truncation) and
kernels/ (the steps). Training runs `workers` Python threads that each take the next raw batch
of ~10,000 words and subsample, cut and train it with nogil kernels. A corpus in memory (a list,
tuple or id array) is mapped to ids once, in build_vocab, and kept (4 bytes a word) for every
pass; a file or other iterable is read by the calling thread on every pass instead.

Threads share the tables without locks (Hogwild, as both references do): with workers >= 2 the
interleaving of updates changes from run to run, so results are not bit-for-bit reproducible
(they are statistically equivalent). Every batch draws its random numbers from its own stream
(seeded by seed, epoch and batch number), so with workers=1 and a fixed seed a run is
reproducible bit for bit.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Sequence
from itertools import count

import numpy as np

from minembed import _threads
from minembed.nn import Embedding
from minembed.word2vec import corpus as corpus_module
from minembed.word2vec.huffman import huffman_codes
from minembed.word2vec.kernels.cbow import train_cbow_batch
from minembed.word2vec.kernels.skipgram import train_sg_batch
from minembed.word2vec.kernels.tables import batch_seed, sigmoid_tables
from minembed.word2vec.keyed_vectors import KeyedVectors
from minembed.word2vec.vocab import (
    count_ids,
    count_words,
    keep_thresholds,
    negative_guide,
    negative_table,
    sorted_vocabulary,
)


def _check_int(name: str, value, minimum: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}: {fix}")
    return int(value)


def _check_float(name: str, value, minimum: float, fix: str, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}: {fix}")
    if not np.isfinite(value) or value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value!r}: {fix}")
    return float(value)


class Word2Vec:
    """Word vectors trained with skip-gram (sg=1) or CBOW (sg=0), negative sampling or hierarchical softmax.

    sentences: token lists (re-iterable), a path to a text file with one sentence per line, or a
    token-id array (1-D: one stream, 2-D: one sentence per row); given here, the model builds its
    vocabulary and trains at once. Tables: `input_embedding` (V, vector_size) and
    `output_embedding` (negative sampling's output rows, or hierarchical softmax's inner nodes
    when negative=0; with both, the inner nodes are `hs_embedding`), all float32
    minembed.nn.Embedding. Vectors and queries: `wv` (a KeyedVectors over input_embedding.weight).
    `loss_history`: the float64 training loss of every epoch (sum of -log sigmoid over the trained
    targets); callbacks' on_epoch_end(model) can read it as model.loss_history[-1].

    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=2, workers=1)
    >>> model.wv["cat"].shape, len(model.loss_history)
    ((8,), 2)
    """

    def __init__(
        self,
        sentences=None,
        *,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        sample: float = 1e-3,
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        epochs: int = 5,
        seed: int = 1,
        workers: int = 2,
        max_vocab_size: int | None = None,
        shrink_windows: bool = True,
        callbacks: Sequence = (),
    ) -> None:
        self.vector_size = _check_int("vector_size", vector_size, 1, "use e.g. vector_size=100")
        self.window = _check_int("window", window, 1, "a window of 0 has no context words; use e.g. window=5")
        self.min_count = _check_int("min_count", min_count, 1, "use min_count=1 to keep every word")
        if sg not in (0, 1) or hs not in (0, 1) or cbow_mean not in (0, 1):
            raise ValueError(
                f"sg, hs and cbow_mean must each be 0 or 1, got sg={sg!r}, hs={hs!r}, cbow_mean={cbow_mean!r}"
            )
        self.sg, self.hs, self.cbow_mean = int(sg), int(hs), int(cbow_mean)
        self.negative = _check_int("negative", negative, 0, "use negative=5, or negative=0 with hs=1")
        if not self.hs and not self.negative:
            raise ValueError("negative=0 and hs=0 leave nothing to train: set negative=5 or hs=1")
        self.ns_exponent = _check_float("ns_exponent", ns_exponent, -np.inf, "word2vec uses 0.75")
        self.sample = _check_float("sample", sample, 0.0, "use sample=1e-3, or 0 to keep every occurrence")
        self.alpha = _check_float("alpha", alpha, 0.0, "use e.g. alpha=0.025", strict=True)
        self.min_alpha = _check_float("min_alpha", min_alpha, 0.0, "use e.g. min_alpha=1e-4")
        self.epochs = _check_int("epochs", epochs, 1, "use e.g. epochs=5")
        self.seed = _check_int("seed", seed, 0, "use any non-negative int")
        self.workers = _check_int("workers", workers, 1, "use workers=1 for bit-for-bit reproducible runs")
        if max_vocab_size is not None:
            max_vocab_size = _check_int("max_vocab_size", max_vocab_size, 1, "or None for no limit")
        self.max_vocab_size = max_vocab_size
        self.shrink_windows = bool(shrink_windows)
        self.callbacks = tuple(callbacks)
        self.loss_history: list[float] = []
        self.corpus = None
        self.wv: KeyedVectors | None = None
        if sentences is not None:
            self.build_vocab(sentences)
            self.train()

    # --- vocabulary -------------------------------------------------------------------------------

    def build_vocab(self, sentences) -> Word2Vec:
        """Count the corpus, keep words with count >= min_count, and make the tables (fresh)."""
        corpus = corpus_module.check_corpus(sentences)
        if isinstance(corpus, np.ndarray) and not self.max_vocab_size:
            if corpus.size and corpus.min() < 0:
                raise ValueError("token ids must be non-negative; got a negative id in sentences")
            counts, total, n_sentences = (
                count_ids(corpus.ravel()),
                corpus.size,
                (1 if corpus.ndim == 1 else len(corpus)),
            )
        else:
            counts, total, n_sentences = count_words(corpus_module.token_sentences(corpus), self.max_vocab_size)
        if total == 0:
            raise ValueError("the corpus is empty (no words in any sentence): pass sentences with tokens in them")
        words, word_counts = sorted_vocabulary(counts, self.min_count)
        if not words:
            raise ValueError(
                f"no word occurs min_count={self.min_count} times (the most frequent occurs "
                f"{max(counts.values())} times): lower min_count or train on more text"
            )
        self.corpus = corpus
        self._cached_ids = None  # ids depend on the vocabulary
        self.corpus_total_words = total
        self.corpus_count = n_sentences
        self.counts = word_counts
        self.sample_ints = keep_thresholds(word_counts, self.sample)
        self.cum_table = negative_table(word_counts, self.ns_exponent) if self.negative else np.ones(1, np.uint32)
        self.negative_guide, self.negative_guide_shift = negative_guide(self.cum_table)
        if self.hs:
            self.codes, self.points, self.code_lengths = huffman_codes(word_counts)
        else:
            self.codes, self.points, self.code_lengths = (
                np.zeros((1, 1), np.uint8),
                np.zeros((1, 1), np.int32),
                np.zeros(1, np.int32),
            )
        self._make_tables(len(words))
        self.wv = KeyedVectors(words, self.input_embedding.weight, counts=word_counts)
        self._in_memory_ids(corpus)  # a corpus in memory is mapped to ids once, here
        return self

    def _make_tables(self, vocab_size: int) -> None:
        """Input rows uniform in [-0.5/d, 0.5/d) (word2vec.c's range), output rows zero."""
        rng = np.random.default_rng(self.seed)
        syn0 = (rng.random((vocab_size, self.vector_size), dtype=np.float32) - np.float32(0.5)) / np.float32(
            self.vector_size
        )
        self.input_embedding = Embedding.from_pretrained(syn0, freeze=False, sparse=True)
        zeros = np.zeros((vocab_size, self.vector_size), np.float32)
        inner = np.zeros((max(vocab_size - 1, 1), self.vector_size), np.float32)
        self.hs_embedding = Embedding.from_pretrained(inner, freeze=False, sparse=True) if self.hs else None
        if self.negative:
            self.output_embedding = Embedding.from_pretrained(zeros, freeze=False, sparse=True)
        else:
            self.output_embedding = self.hs_embedding

    # --- training ---------------------------------------------------------------------------------

    def train(self, sentences=None, *, epochs: int | None = None, callbacks: Sequence | None = None) -> tuple[int, int]:
        """Train for `epochs` passes (default: the constructor's) over sentences (default: the corpus
        build_vocab saw). The learning rate falls linearly from alpha to min_alpha over all passes.
        Returns (effective words trained after subsampling, raw words read)."""
        if self.wv is None:
            raise RuntimeError("call build_vocab(sentences) before train(), or pass sentences to Word2Vec(...)")
        corpus = self.corpus if sentences is None else corpus_module.check_corpus(sentences)
        epochs = self.epochs if epochs is None else _check_int("epochs", epochs, 1, "use e.g. epochs=5")
        callbacks = self.callbacks if callbacks is None else tuple(callbacks)
        _call(callbacks, "on_train_begin", self)
        exp_table, log_table = sigmoid_tables()
        trained = raw = 0
        bar = _progress_bar(epochs * self.corpus_total_words)
        try:
            for epoch in range(epochs):
                _call(callbacks, "on_epoch_begin", self)
                loss, epoch_trained, epoch_raw = self._train_epoch(corpus, epoch, epochs, exp_table, log_table, bar)
                self.loss_history.append(loss)
                trained += epoch_trained
                raw += epoch_raw
                if bar is not None:
                    bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4g}")
                _call(callbacks, "on_epoch_end", self)
        finally:
            if bar is not None:
                bar.close()
        _call(callbacks, "on_train_end", self)
        self.wv.fill_norms(force=True)
        return trained, raw

    def _alpha(self, epoch: int, epochs: int, words_done: float) -> float:
        progress = (epoch + min(words_done / self.corpus_total_words, 1.0)) / epochs
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)

    def _in_memory_ids(self, corpus):
        """(ids (N,) int32 with -1 for unknown words, offsets (S + 1,) int64, batch bounds (B + 1,)
        sentence indices) for a corpus already in memory (a list, tuple or id array), else None.

        Computed once (build_vocab does it, 4 bytes a word) and reused by every pass, so an epoch
        has no per-sentence Python work left; files and other iterables are streamed instead."""
        if not isinstance(corpus, (list, tuple, np.ndarray)):
            return None
        cached = getattr(self, "_cached_ids", None)
        if cached is not None and cached[0] is corpus and cached[1] == len(corpus):
            return cached[2]
        if isinstance(corpus, np.ndarray):
            pieces = list(corpus_module.raw_batches(corpus, self.wv.key_to_index))
            ids = np.concatenate([piece[0] for piece in pieces]) if pieces else np.zeros(0, np.int32)
            offsets, base = [np.zeros(1, np.int64)], 0
            for piece in pieces:
                offsets.append(piece[1][1:] + base)
                base += piece[0].shape[0]
            offsets = np.concatenate(offsets)
        else:
            ids, offsets = corpus_module.sentence_ids(corpus, self.wv.key_to_index)
        arrays = (ids, offsets, corpus_module.batch_bounds(offsets))
        self._cached_ids = (corpus, len(corpus), arrays)
        return arrays

    def _raw_batch_seeds(self, epoch: int, number: int):
        """The random streams of raw batch `number`: one per kernel call it makes (and its subsampling)."""
        return (batch_seed(self.seed, epoch, (number << 20) + k) for k in count())

    def _train_raw_batch(self, raw, number, alpha, epoch, exp_table, log_table) -> tuple[float, int]:
        """Subsample, cut and train one raw batch (in a worker thread): (loss, centres trained)."""
        seeds = self._raw_batch_seeds(epoch, number)
        loss, centres = 0.0, 0
        for batch in corpus_module.training_batches(raw, self.sample_ints, self.sample > 0, seeds, self.window):
            batch.alpha = alpha
            batch.seed = next(seeds)
            batch_loss, batch_centres = self._run_batch(batch, exp_table, log_table)
            loss += batch_loss
            centres += batch_centres
        return loss, centres

    def _run_batch(self, batch, exp_table, log_table) -> tuple[float, int]:
        syn0 = self.input_embedding.weight
        syn1neg = self.output_embedding.weight if self.negative else syn0
        syn1 = self.hs_embedding.weight if self.hs else syn0
        alpha = np.float32(batch.alpha)
        common = (
            syn0,
            syn1neg,
            syn1,
            batch.ids,
            batch.segments,
            self.window,
            self.shrink_windows,
            self.negative,
            self.cum_table,
            self.negative_guide,
            self.negative_guide_shift,
            bool(self.hs),
            self.points,
            self.codes,
            self.code_lengths,
        )
        if self.sg:
            return train_sg_batch(*common, alpha, batch.seed, exp_table, log_table)
        return train_cbow_batch(*common, bool(self.cbow_mean), alpha, batch.seed, exp_table, log_table)

    def _train_epoch(self, corpus, epoch, epochs, exp_table, log_table, bar) -> tuple[float, int, int]:
        """One pass with `workers` threads; each raw batch of ~10,000 words is one unit of work, its
        learning rate set by the words before it (so the schedule does not depend on the threads)."""
        memory = self._in_memory_ids(corpus)
        results: dict[int, tuple[float, int]] = {}
        errors: list[BaseException] = []

        def train_one(number: int, raw, words_before: float) -> None:
            alpha = self._alpha(epoch, epochs, words_before)
            results[number] = self._train_raw_batch(raw, number, alpha, epoch, exp_table, log_table)
            if bar is not None:
                bar.update(raw[2])

        if memory is not None:
            ids, offsets, bounds = memory
            words_before = offsets[bounds[:-1]]
            numbers = _threads.shared_indices(len(bounds) - 1)  # each batch is taken once, in order

            def work() -> None:
                try:
                    for number in _threads.take_until_empty(numbers):
                        if errors:
                            return
                        first, last = bounds[number], bounds[number + 1]
                        lo, hi = int(offsets[first]), int(offsets[last])
                        raw = (ids[lo:hi], offsets[first : last + 1] - lo, hi - lo)
                        train_one(number, raw, float(words_before[number]))
                except BaseException as error:  # noqa: BLE001 - handed to the calling thread, which re-raises it
                    errors.append(error)

            threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            raw_words = int(offsets[-1])
        else:
            raw_words = self._train_streamed(corpus, train_one, errors)
        if errors:
            raise errors[0]
        losses = [results[number][0] for number in sorted(results)]  # summed in corpus order
        return float(sum(losses)), int(sum(result[1] for result in results.values())), raw_words

    def _train_streamed(self, corpus, train_one, errors) -> int:
        """The calling thread reads and maps the corpus batch by batch; the workers train them."""
        jobs: queue.Queue = queue.Queue(maxsize=4 * self.workers)

        def work() -> None:
            while True:
                job = jobs.get()
                if job is None:
                    return
                if errors:
                    continue  # drain the queue after a failure
                try:
                    train_one(*job)
                except BaseException as error:  # noqa: BLE001 - handed to the calling thread, which re-raises it
                    errors.append(error)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        raw_words = 0
        try:
            for number, raw in enumerate(corpus_module.raw_batches(corpus, self.wv.key_to_index)):
                jobs.put((number, raw, float(raw_words)))
                raw_words += raw[2]
                if errors:
                    break
        finally:
            for _ in threads:
                jobs.put(None)
            for thread in threads:
                thread.join()
        return raw_words

    def __repr__(self) -> str:
        size = len(self.wv) if self.wv is not None else 0
        return (
            f"Word2Vec(vocab={size}, vector_size={self.vector_size}, window={self.window}, sg={self.sg}, "
            f"hs={self.hs}, negative={self.negative})"
        )


def _call(callbacks, method: str, model) -> None:
    for callback in callbacks:
        hook = getattr(callback, method, None)
        if hook is not None:
            hook(model)


def _progress_bar(total_words: int):
    """A tqdm bar over raw words when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total_words, unit="word", unit_scale=True, desc="word2vec", leave=False)
