"""The memory-lean paths of BPE training (issue 15): per-worker tables flushed into one shared
table, the piece bytes handed to the merge loop as uint8, and recycled index nodes in the merge loop.

Oracles: the regex engine (`count_pieces`), the int32 layout of `count_pieces_packed`, the
merge loop's pure-Python twin and rustbpe (through reference/).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.text.patterns import GPT4_SPLIT_PATTERN
from minembed.tokenizers import pretokenize
from minembed.tokenizers.kernels import train_merges, train_merges_numpy
from minembed.tokenizers.pretokenize import count_pieces, count_pieces_flat, count_pieces_packed
from minembed.tokenizers.train import train_bpe_ranks
from reference import rustbpe_ref


def as_counts(tokens, offsets, counts) -> dict[bytes, int]:
    return {tokens[a:b].astype(np.uint8).tobytes(): int(c) for a, b, c in zip(offsets[:-1], offsets[1:], counts)}


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_flushed_worker_tables_count_like_the_regex_engine(corpora, monkeypatch, num_threads):
    monkeypatch.setattr(pretokenize, "BATCH_CHARS", 4000)  # many batches ...
    monkeypatch.setattr(pretokenize, "FLUSH_PIECES", 300)  # ... and many flushes into the shared table
    lines = corpora["warpeace.txt"][:200_000].splitlines(keepends=True)
    tokens, offsets, counts = count_pieces_flat(iter(lines), GPT4_SPLIT_PATTERN, num_threads=num_threads)
    assert tokens.dtype == np.uint8 and offsets.dtype == np.int64 and counts.dtype == np.int64
    assert tokens.shape[0] == offsets[-1] and counts.shape[0] == offsets.shape[0] - 1  # exact sizes
    expected = count_pieces(lines, GPT4_SPLIT_PATTERN)
    assert as_counts(tokens, offsets, counts) == expected
    assert as_counts(*count_pieces_packed(lines, GPT4_SPLIT_PATTERN, num_threads=num_threads)) == expected


def test_flat_counts_of_another_pattern_use_the_regex_engine():
    tokens, offsets, counts = count_pieces_flat(["hello world", "hello"], r"\w+| \w+")
    assert as_counts(tokens, offsets, counts) == {b"hello": 2, b" world": 1}


@given(
    texts=st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=60), max_size=5),
    n_merges=st.integers(0, 150),
)
def test_merge_loop_on_uint8_bytes_equals_int32_and_the_twin(texts, n_merges):
    tokens, offsets, counts = count_pieces_packed(texts, GPT4_SPLIT_PATTERN)
    progress = np.zeros(1, np.int64)
    from_int32 = train_merges.train_merges(tokens, offsets, counts, n_merges, progress)
    from_uint8 = train_merges.train_merges(tokens.astype(np.uint8), offsets, counts, n_merges, progress)
    twin = train_merges_numpy.train_merges(tokens.astype(np.uint8), offsets, counts, n_merges, progress)
    np.testing.assert_array_equal(from_uint8, from_int32)
    np.testing.assert_array_equal(from_uint8, twin)


def test_recycled_index_nodes_keep_rustbpes_ranks_on_a_long_run(corpora):
    # thousands of merges, each recycling the index nodes of the pair it merged
    text = corpora["taylorswift.txt"]
    assert train_bpe_ranks(text, 2000, progress=False) == rustbpe_ref.train_ranks(text, 2000)
