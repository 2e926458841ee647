"""Word2Vec's steps: Numba kernel == Embedding-based NumPy twin == torch autograd on replayed streams;
batch kernels == their twins; one thread is bit-for-bit reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from minembed.word2vec import Word2Vec
from minembed.word2vec.huffman import huffman_codes
from minembed.word2vec.kernels import cbow, cbow_numpy, skipgram, skipgram_numpy, steps, steps_numpy
from minembed.word2vec.kernels.tables import sigmoid_tables
from minembed.word2vec.vocab import negative_guide, negative_table
from reference import torch_word2vec

V, D = 12, 8
EXP_TABLE, LOG_TABLE = sigmoid_tables()


def _tables(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.3, (V, D)).astype(np.float32), rng.normal(0, 0.3, (V, D)).astype(np.float32)


def _ns_stream(rng, n, cbow_mode):
    """Steps of (inputs, targets: centre first then distinct negatives, alpha)."""
    stream = []
    for _ in range(n):
        targets = rng.choice(V, size=4, replace=False)
        inputs = rng.integers(0, V, size=rng.integers(1, 5)) if cbow_mode else np.array([rng.integers(0, V)])
        stream.append((inputs, targets, np.float32(rng.uniform(0.01, 0.05))))
    return stream


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=2e-7)


@pytest.mark.parametrize("mode", ["sg", "cbow_mean", "cbow_sum"])
def test_negative_sampling_steps_equal_twin_and_torch(mode):
    rng = np.random.default_rng(1)
    stream = _ns_stream(rng, 40, mode != "sg")
    kernel0, kernel1 = _tables(2)
    twin0, twin1 = kernel0.copy(), kernel1.copy()
    cbow_mean = mode == "cbow_mean"
    work, hidden = np.empty(D, np.float32), np.empty(D, np.float32)
    kernel_losses, twin_losses = [], []
    for inputs, targets, alpha in stream:
        if mode == "sg":
            kernel_losses.append(
                steps.sg_ns_step(kernel0, kernel1, inputs[0], targets, 4, alpha, work, True, EXP_TABLE, LOG_TABLE)
            )
            twin_losses.append(
                steps_numpy.sg_ns_step(twin0, twin1, inputs[0], targets, 4, alpha, None, True, EXP_TABLE, LOG_TABLE)
            )
        else:
            kernel_losses.append(
                steps.cbow_ns_step(
                    kernel0,
                    kernel1,
                    inputs,
                    len(inputs),
                    targets,
                    4,
                    cbow_mean,
                    alpha,
                    hidden,
                    work,
                    True,
                    EXP_TABLE,
                    LOG_TABLE,
                )
            )
            twin_losses.append(
                steps_numpy.cbow_ns_step(
                    twin0,
                    twin1,
                    inputs,
                    len(inputs),
                    targets,
                    4,
                    cbow_mean,
                    alpha,
                    None,
                    None,
                    True,
                    EXP_TABLE,
                    LOG_TABLE,
                )
            )
    labels = np.array([1, 0, 0, 0], np.float32)
    torch0, torch1, torch_losses = torch_word2vec.replay(
        *_tables(2), [(i, t, labels, a) for i, t, a in stream], cbow_mean=None if mode == "sg" else cbow_mean
    )
    start0, _ = _tables(2)
    assert np.abs(kernel0 - start0).max() > 1e-3  # the stream did train
    _close(kernel0, twin0)
    _close(kernel1, twin1)
    _close(kernel0, torch0)
    _close(kernel1, torch1)
    np.testing.assert_allclose(kernel_losses, torch_losses, rtol=1e-5)
    np.testing.assert_allclose(twin_losses, torch_losses, rtol=1e-5)


@pytest.mark.parametrize("mode", ["sg", "cbow_mean"])
def test_hierarchical_softmax_steps_equal_twin_and_torch(mode):
    rng = np.random.default_rng(3)
    codes, points, lengths = huffman_codes(rng.integers(1, 100, V))
    syn0, _ = _tables(4)
    syn1 = rng.normal(0, 0.3, (V - 1, D)).astype(np.float32)
    kernel0, kernel1, twin0, twin1 = syn0.copy(), syn1.copy(), syn0.copy(), syn1.copy()
    work, hidden = np.empty(D, np.float32), np.empty(D, np.float32)
    torch_steps = []
    for _ in range(40):
        word = int(rng.integers(0, V))
        inputs = rng.integers(0, V, size=rng.integers(1, 5)) if mode != "sg" else np.array([rng.integers(0, V)])
        alpha = np.float32(rng.uniform(0.01, 0.05))
        if mode == "sg":
            steps.sg_hs_step(
                kernel0, kernel1, inputs[0], word, points, codes, lengths, alpha, work, True, EXP_TABLE, LOG_TABLE
            )
            steps_numpy.sg_hs_step(
                twin0, twin1, inputs[0], word, points, codes, lengths, alpha, None, True, EXP_TABLE, LOG_TABLE
            )
        else:
            steps.cbow_hs_step(
                kernel0,
                kernel1,
                inputs,
                len(inputs),
                word,
                points,
                codes,
                lengths,
                True,
                alpha,
                hidden,
                work,
                True,
                EXP_TABLE,
                LOG_TABLE,
            )
            steps_numpy.cbow_hs_step(
                twin0,
                twin1,
                inputs,
                len(inputs),
                word,
                points,
                codes,
                lengths,
                True,
                alpha,
                None,
                None,
                True,
                EXP_TABLE,
                LOG_TABLE,
            )
        n = lengths[word]
        torch_steps.append((inputs, points[word, :n], 1 - codes[word, :n].astype(np.float32), alpha))
    torch0, torch1, _ = torch_word2vec.replay(syn0, syn1, torch_steps, cbow_mean=None if mode == "sg" else True)
    assert np.abs(kernel1 - syn1).max() > 1e-3  # the stream did train the inner nodes
    _close(kernel0, twin0)
    _close(kernel1, twin1)
    _close(kernel0, torch0)
    _close(kernel1, torch1)


def _batch_inputs(rng, hs, negative):
    counts = np.sort(rng.integers(1, 50, V))[::-1]
    cum = negative_table(counts, 0.75)
    guide, shift = negative_guide(cum)
    codes, points, lengths = huffman_codes(counts)
    ids = rng.integers(0, V, 60).astype(np.int32)
    segments = np.array([[0, 0, 25, 25], [25, 25, 40, 40], [40, 40, 60, 60]], np.int64)
    return ids, segments, cum, guide, shift, points, codes, lengths


@pytest.mark.parametrize("sg, hs, negative, cbow_mean", [(1, 0, 5, 1), (1, 1, 0, 1), (0, 0, 5, 1), (0, 1, 3, 0)])
def test_batch_kernels_equal_their_twins(sg, hs, negative, cbow_mean):
    rng = np.random.default_rng(5)
    ids, segments, cum, guide, shift, points, codes, lengths = _batch_inputs(rng, hs, negative)
    syn0, syn1neg = _tables(6)
    syn1 = rng.normal(0, 0.1, (V - 1, D)).astype(np.float32)
    results = []
    for module in (skipgram, skipgram_numpy) if sg else (cbow, cbow_numpy):
        tables = (syn0.copy(), syn1neg.copy(), syn1.copy())
        args = (*tables, ids, segments, 3, True, negative, cum, guide, shift, bool(hs), points, codes, lengths)
        if sg:
            loss, centres = module.train_sg_batch(*args, np.float32(0.025), 777, EXP_TABLE, LOG_TABLE)
        else:
            loss, centres = module.train_cbow_batch(
                *args, bool(cbow_mean), np.float32(0.025), 777, EXP_TABLE, LOG_TABLE
            )
        results.append((tables, loss, centres))
    (kernel_tables, kernel_loss, kernel_centres), (twin_tables, twin_loss, twin_centres) = results
    assert kernel_centres == twin_centres == 60
    assert np.abs(kernel_tables[0] - syn0).max() > 1e-4
    for ours, twin in zip(kernel_tables, twin_tables):
        np.testing.assert_allclose(ours, twin, rtol=1e-5, atol=1e-6)
    assert kernel_loss == pytest.approx(twin_loss, rel=1e-5)


def test_one_worker_is_bit_for_bit_reproducible():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(50)]
    sentences = [list(rng.choice(words, size=rng.integers(1, 30))) for _ in range(400)]
    runs = [Word2Vec(sentences, vector_size=16, min_count=1, sg=sg, workers=1, epochs=2, seed=3) for sg in (1, 1, 0)]
    np.testing.assert_array_equal(runs[0].wv.vectors, runs[1].wv.vectors)
    np.testing.assert_array_equal(runs[0].output_embedding.weight, runs[1].output_embedding.weight)
    assert runs[0].loss_history == runs[1].loss_history
    other_seed = Word2Vec(sentences, vector_size=16, min_count=1, sg=1, workers=1, epochs=2, seed=4)
    assert not np.array_equal(runs[0].wv.vectors, other_seed.wv.vectors)


def test_batch_kernels_carry_the_steps_fastmath_flags():
    # Numba compiles an inlined step with its caller's flags, not its own: without FASTMATH on the
    # batch kernels the steps' dot products compile as serial float32 chains (no reassociation).
    for kernel in (skipgram.train_sg_batch, cbow.train_cbow_batch):
        assert set(kernel.targetoptions["fastmath"]) == set(steps.FASTMATH) == {"reassoc", "nsz", "contract"}
