"""The Numba kernels of minembed.random against their readable NumPy twins, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from minembed import _fma_numpy as fma_numpy
from minembed._fma import fma
from minembed.random.kernels import mt19937, mt19937_numpy, normal, normal_numpy, uniform, uniform_numpy

seeds32 = st.integers(0, 2**32 - 1)


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def seeded(impl, seed):
    key, cursor = np.empty(624, np.uint32), np.empty(2, np.int64)
    impl.seed_key(seed, key, cursor)
    return key, cursor


@given(seed=seeds32, counts=st.lists(st.integers(0, 1500), min_size=1, max_size=4))
def test_word_stream_twins_agree(seed, counts):
    kernel_state, twin_state = seeded(mt19937, seed), seeded(mt19937_numpy, seed)
    assert same_bits(kernel_state[0], twin_state[0])
    for count in counts:
        a, b = np.empty(count, np.uint32), np.empty(count, np.uint32)
        mt19937.fill_words(*kernel_state, a)
        mt19937_numpy.fill_words(*twin_state, b)
        assert same_bits(a, b) and same_bits(kernel_state[1], twin_state[1])
    a, b = np.empty(5, np.uint64), np.empty(5, np.uint64)
    mt19937.fill_words64(*kernel_state, a)
    mt19937_numpy.fill_words64(*twin_state, b)
    assert same_bits(a, b)


def test_word_stream_is_numpys_mt19937():
    """NumPy's MT19937, given the same init_genrand key, yields the same words (an independent check)."""
    key, cursor = seeded(mt19937, 5489)
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937", "state": {"key": key.copy(), "pos": 624}}
    words = np.empty(2000, np.uint32)
    mt19937.fill_words(key, cursor, words)
    assert same_bits(words, bits.random_raw(2000).astype(np.uint32))


@njit(cache=True)
def _fma_all(a, b, c, out):
    for i in range(out.size):
        out[i] = fma(a[i], b[i], c[i])


floats32 = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)


@given(values=st.lists(st.tuples(floats32, floats32, floats32), min_size=1, max_size=50))
def test_fma_intrinsic_equals_the_exact_twin(values):
    a, b, c = (np.array(column, dtype=np.float32) for column in zip(*values))
    # Near-cancelling sums are where a non-fused or double-rounded result differs.
    c = np.concatenate([c, (-(a.astype(np.float64) * b)).astype(np.float32)])
    a, b = np.concatenate([a, a]), np.concatenate([b, b])
    out = np.empty_like(a)
    _fma_all(a, b, c, out)
    assert same_bits(out, fma_numpy.fma32(a, b, c))
    a64, b64, c64 = (x.astype(np.float64) * 1.000000123 for x in (a, b, c))
    out64 = np.empty_like(a64)
    _fma_all(a64, b64, c64, out64)
    assert all(out64[i] == fma_numpy.fma64(a64[i], b64[i], c64[i]) for i in range(a64.size))


def test_fma32_twin_handles_double_rounding():
    # a*b + c lands exactly halfway between two float32 in float64 only after rounding: 1 + 2**-24 + 2**-60.
    a, b, c = np.float32(1 + 2**-23), np.float32(1 + 2**-23), np.float32(-(2**-23))
    exact = (1 + 2**-23) ** 2 - 2**-23  # = 1 + 2**-23 + 2**-46, rounds up to 1 + 2**-23
    assert fma_numpy.fma32(a, b, c) == np.float32(1 + 2**-23) == np.float32(exact)


@pytest.mark.parametrize("name", ["normal_blocks_avx2_f32", "normal_blocks_generic_f32", "normal_blocks_f64"])
@given(seed=seeds32, blocks=st.integers(0, 40), mean=st.floats(-3, 3), std=st.floats(0, 3))
def test_normal_block_twins_agree(name, seed, blocks, mean, std):
    f64 = name.endswith("f64")
    key, cursor = seeded(mt19937, seed)
    words = np.empty(16 * blocks, np.uint64 if f64 else np.uint32)
    (mt19937.fill_words64 if f64 else mt19937.fill_words)(key, cursor, words)
    dtype = np.float64 if f64 else np.float32
    mean, std = (float(mean), float(std)) if f64 else (np.float32(mean), np.float32(std))
    a, b = np.empty(words.size, dtype), np.empty(words.size, dtype)
    getattr(normal, name)(words, a, mean, std)
    getattr(normal_numpy, name)(words, b, mean, std)
    assert same_bits(a, b)


@given(seed=seeds32, n=st.integers(0, 40), cached=st.booleans(), fused=st.booleans(), f64=st.booleans())
def test_serial_normal_twins_agree(seed, n, cached, fused, f64):
    dtype = np.float64 if f64 else np.float32
    results = []
    for kernels, words in ((normal, mt19937), (normal_numpy, mt19937_numpy)):
        key, cursor = seeded(words, seed)
        cache = np.array([1.0, 0.625]) if cached else np.zeros(2)
        out = np.empty(n, dtype)
        kernels.normal_serial(key, cursor, cache, out, 0.25, 1.5, fused)
        results.append((out, cache, cursor))
    assert all(same_bits(x, y) for x, y in zip(*results))


@given(seed=seeds32, n=st.integers(0, 300), low=st.floats(-5, 5), span=st.floats(0, 5), fused=st.booleans())
def test_uniform_twins_agree(seed, n, low, span, fused):
    key, cursor = seeded(mt19937, seed)
    words, words64 = np.empty(n, np.uint32), np.empty(n, np.uint64)
    mt19937.fill_words(key, cursor, words)
    mt19937.fill_words64(key, cursor, words64)
    a, b = np.empty(n, np.float32), np.empty(n, np.float32)
    uniform.uniform_f32(words, a, np.float32(low), np.float32(low + span), fused)
    uniform_numpy.uniform_f32(words, b, np.float32(low), np.float32(low + span), fused)
    assert same_bits(a, b)
    a, b = np.empty(n), np.empty(n)
    uniform.uniform_f64(words64, a, low, low + span, fused)
    uniform_numpy.uniform_f64(words64, b, low, low + span, fused)
    assert same_bits(a, b)


@given(seed=seeds32, n=st.integers(0, 300))
def test_shuffle_twins_agree_and_permute(seed, n):
    key, cursor = seeded(mt19937, seed)
    words, words64 = np.empty(max(n - 1, 0), np.uint32), np.empty(n, np.uint64)
    mt19937.fill_words(key, cursor, words)
    mt19937.fill_words64(key, cursor, words64)
    for name, source in (("shuffle_forward", words), ("shuffle_inside_out", words64)):
        a, b = np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
        getattr(uniform, name)(source, a)
        getattr(uniform_numpy, name)(source, b)
        assert same_bits(a, b) and np.array_equal(np.sort(a), np.arange(n))
