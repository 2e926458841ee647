"""Word2Vec's preprocessing equals gensim's arrays: vocabulary, keep thresholds, negatives, Huffman codes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minembed.word2vec import Word2Vec
from minembed.word2vec.kernels import draws, draws_numpy, subsample_numpy
from minembed.word2vec.kernels import subsample as subsample_kernel
from minembed.word2vec.vocab import negative_guide
from reference import gensim_ref
from reference.shared import corpus_paths


@pytest.fixture(scope="module")
def sentences():
    paths = [p for p in corpus_paths() if p.name == "tinyshakespeare.txt"]
    return gensim_ref.corpus_sentences(paths)[:20000]  # about 100k words


def _model(sentences, **params):
    return Word2Vec(workers=1, **params).build_vocab(sentences)


@pytest.mark.parametrize("min_count, sample", [(5, 1e-3), (1, 1e-4), (3, 0.0), (2, 200.0)])
def test_vocabulary_and_keep_thresholds_equal_gensim(sentences, min_count, sample):
    ours = _model(sentences, min_count=min_count, sample=sample)
    theirs = gensim_ref.vocab_arrays(sentences, min_count=min_count, sample=sample)
    assert ours.wv.index_to_key == theirs["words"]  # order: count desc, ties as gensim sorts them
    np.testing.assert_array_equal(ours.counts, theirs["counts"])
    np.testing.assert_array_equal(ours.sample_ints, theirs["sample_int"])


def test_ties_are_ordered_as_gensim_orders_them():
    sentences = [["b", "a", "c", "a", "d", "e", "d"], ["f", "e", "c"]]
    ours = _model(sentences, min_count=1)
    assert ours.wv.index_to_key == gensim_ref.vocab_arrays(sentences, min_count=1)["words"]


def test_max_vocab_size_prunes_as_gensim(sentences):
    ours = _model(sentences[:3000], min_count=1, max_vocab_size=500)
    theirs = gensim_ref.vocab_arrays(sentences[:3000], min_count=1, max_vocab_size=500)
    assert ours.wv.index_to_key == theirs["words"]
    np.testing.assert_array_equal(ours.counts, theirs["counts"])


@pytest.mark.parametrize("ns_exponent", [0.75, 1.0, 0.0, -0.5])
def test_negative_table_equals_gensim(sentences, ns_exponent):
    ours = _model(sentences, ns_exponent=ns_exponent)
    theirs = gensim_ref.vocab_arrays(sentences, ns_exponent=ns_exponent)
    np.testing.assert_array_equal(ours.cum_table, theirs["cum_table"])


def test_huffman_codes_and_points_equal_gensim(sentences):
    ours = _model(sentences, hs=1, negative=0, min_count=2)
    theirs = gensim_ref.vocab_arrays(sentences, hs=1, negative=0, min_count=2)
    for word in range(len(ours.wv)):
        length = ours.code_lengths[word]
        assert ours.codes[word, :length].tolist() == theirs["codes"][word]
        assert ours.points[word, :length].tolist() == theirs["points"][word]


def _chi_squared_upper(df: int, z: float = 3.29) -> float:
    """Wilson-Hilferty approximation of the chi-squared quantile at standard-normal z (3.29: 0.9995)."""
    h = 2.0 / (9.0 * df)
    return df * (1.0 - h + z * math.sqrt(h)) ** 3


def test_drawn_negatives_follow_count_to_the_075(sentences):
    model = _model(sentences)
    cum, (guide, shift) = model.cum_table, negative_guide(model.cum_table)
    n = 100_000
    state = 12345
    drawn = np.empty(n, np.int64)
    for k in range(n):
        drawn[k], state = draws.draw_negative(np.uint64(state), cum, guide, shift)
    # the guided search answers exactly as gensim's bisect over the whole table
    state = 12345
    for k in range(300):
        expected, state = draws_numpy.draw_negative(state, cum, guide, shift)
        assert drawn[k] == expected
    powers = model.counts.astype(np.float64) ** 0.75
    expected = powers / powers.sum() * n
    observed = np.bincount(drawn, minlength=len(expected)).astype(np.float64)
    big = expected >= 5  # the tail is pooled into one bin so every bin expects >= 5 draws
    tail = [expected[~big].sum()] if (~big).any() else []
    exp_bins = np.r_[expected[big], tail]
    obs_bins = np.r_[observed[big], [observed[~big].sum()] if tail else []]
    statistic = float(((obs_bins - exp_bins) ** 2 / exp_bins).sum())
    assert statistic < _chi_squared_upper(len(exp_bins) - 1)
    # and a wrong distribution (plain counts) is rejected by the same test
    wrong = model.counts / model.counts.sum() * n
    wrong_bins = np.r_[wrong[big], [wrong[~big].sum()] if tail else []]
    assert float(((obs_bins - wrong_bins) ** 2 / wrong_bins).sum()) > _chi_squared_upper(len(exp_bins) - 1)


def test_subsample_kernel_equals_twin_and_keeps_at_the_threshold_rate(sentences):
    model = _model(sentences, sample=1e-3)
    rng = np.random.default_rng(0)
    ids = rng.choice(len(model.wv), size=5000, p=model.counts / model.counts.sum()).astype(np.int32)
    offsets = np.array([0, 1000, 1000, 5000], np.int64)
    kept, kept_offsets = subsample_kernel.subsample(ids, offsets, model.sample_ints, 99)
    twin_kept, twin_offsets = subsample_numpy.subsample(ids, offsets, model.sample_ints, 99)
    np.testing.assert_array_equal(kept, twin_kept)
    np.testing.assert_array_equal(kept_offsets, twin_offsets)
    # the most frequent word is kept at about its threshold probability
    top = ids == 0
    rate = np.isin(np.flatnonzero(top), np.flatnonzero(top)).sum()  # occurrences
    kept_top = (kept == 0).sum()
    assert abs(kept_top / rate - model.sample_ints[0] / 2**32) < 0.05
