"""The short-text path of the Numba encoder (`kernels.encode.encode_one`, issue 15) and the two-thread batch.

encode_one must give exactly the ids of the long-text kernel (`encode_texts`, with its `seen` table),
and, through `Encoding.encode_ordinary`, tiktoken's; each thread has its own output buffer, so an
Encoding shared by many threads must give every thread its own text's ids.
"""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.text.patterns import PATTERNS
from minembed.tokenizers import fast_encode
from minembed.tokenizers.encoding import _utf8
from minembed.tokenizers.fast_encode import MergeTable, NumbaEncoder, TokenTable
from minembed.tokenizers.kernels import encode, encode_numpy
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

NAMES = ["gpt2", "cl100k_base", "o200k_base"]
ALL_PATTERNS = sorted(PATTERNS)
# Lone and paired surrogates, specials' text, contractions, digits, combining marks and long runs.
TRICKY = list(" \t\n\r0123456789aAbB'sltvedm.,!?é中👍\u0301<|>") + ["\ud800", "\udc00", "\ud83d\udc4d", "<|endoftext|>"]
texts = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(TRICKY), max_size=40).map("".join))


def tiny_encoder(pattern: int) -> NumbaEncoder:
    """All 256 bytes, a few merges, and tokens (' xy', 'yz') that BPE alone cannot reach."""
    ranks = {bytes([b]): b for b in range(256)}
    for token in (b"ab", b"abc", b" a", b" ab", b"12", b"  ", b"\n\n", b" xy", b"yz", "é".encode()):
        ranks[token] = len(ranks)
    return NumbaEncoder(pattern, TokenTable.from_ranks(ranks), MergeTable.from_ranks(ranks))


def run_encode_one(module, enc: NumbaEncoder, text: str) -> tuple[list[int], int]:
    data = _utf8(text)
    n = len(data)
    scratch = np.full(3 * n + 2 * encode.SCRATCH_PER_MERGE + 1, -7, dtype=np.int64)
    n_ids = module.encode_one(data, enc.blob, scratch)
    # The ids and the piece ends take scratch[:2 n], the merge scratch the back: nothing lands in between.
    assert (scratch[2 * n : 3 * n] == -7).all()
    return scratch[:n_ids].tolist(), int(scratch[-1])


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    return minembed.get_encoding(request.param), tiktoken_encoding(request.param)


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
@given(text=st.one_of(st.text("ab c12xyz\né", max_size=40), st.text(max_size=20)))
def test_encode_one_kernel_equals_twin(pattern, text):
    enc = tiny_encoder(pattern)
    assert run_encode_one(encode, enc, text) == run_encode_one(encode_numpy, enc, text)


def test_packed_tables_hold_the_same_arrays():
    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257}
    tokens, merges = TokenTable.from_ranks(ranks), MergeTable.from_ranks(ranks)
    enc = NumbaEncoder(ALL_PATTERNS[0], tokens, merges)
    assert enc.tables[0] == ALL_PATTERNS[0]
    for k, name in enumerate(encode.TABLE_SECTIONS):
        source = getattr(tokens, name) if hasattr(tokens, name) else getattr(merges, name)
        assert enc.tables[enc.tables[1 + k] : enc.tables[2 + k]].tolist() == source.tolist(), name
    # encode_one's blob: the tables' bytes, then the character classes, then the token bytes.
    assert np.shares_memory(enc.tables, enc.blob)
    at = enc.tables.nbytes
    assert (enc.blob[at : at + enc.classes.nbytes].view(np.uint16) == enc.classes).all()
    assert enc.blob[at + enc.classes.nbytes :].tobytes() == tokens.arena.tobytes()


@given(text=texts)
def test_short_path_equals_long_path_and_tiktoken(pair, text):
    ours, theirs = pair
    data = _utf8(text)
    ids, text_ends, n_last = ours._numba.encode([data])  # the long-text kernel, with its `seen` table
    assert ours._numba.encode_one(data) == (ids.tolist(), n_last)
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_texts_past_the_short_limit_take_the_long_kernel(pair):
    ours, theirs = pair
    limit = fast_encode.SHORT_TEXT_BYTES
    for text in ["ab " * (limit // 3), "x" * limit, "x" * (limit + 1), "é" * (limit // 2 + 1), "hello " * limit]:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_many_threads_share_one_encoding(pair):
    ours, theirs = pair
    corpus = [f"thread {i}: Zürich 👍 {'ab' * i} <|endoftext|> {i * 12345}\n" for i in range(64)]
    expected = [theirs.encode_ordinary(t) for t in corpus]
    failures: list[int] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for _ in range(20):
            for i in range(offset, offset + len(corpus)):
                j = i % len(corpus)
                if ours.encode_ordinary(corpus[j]) != expected[j]:
                    failures.append(j)

    threads = [threading.Thread(target=work, args=(k * 7,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_batch_on_two_threads_equals_one_by_one(pair):
    ours, theirs = pair
    rng = np.random.default_rng(15)
    words = ["the", " cat", "Zürich", "👍", "\n", "  ", "1234", "I'm", "<|endoftext|>", "\ud800"]
    # Uneven sizes (a few long texts among many short ones) over 128 kB: the batch is cut by bytes.
    corpus = ["".join(rng.choice(words, size=int(n))) for n in rng.zipf(1.5, size=3000) % 20_000]
    expected = [ours.encode_ordinary(t) for t in corpus]
    assert sum(len(t) for t in corpus) > 2 * (1 << 16)
    assert ours.encode_ordinary_batch(corpus, num_threads=2) == expected
    assert ours.encode_ordinary_batch(corpus, num_threads=1) == expected
    assert ours.encode_ordinary_batch(corpus[:1], num_threads=2) == expected[:1]
    assert ours.encode_ordinary_batch([], num_threads=2) == []
    assert expected[:50] == [theirs.encode_ordinary(t) for t in corpus[:50]]


def test_a_two_thread_batch_called_on_the_helper_thread_runs_there(pair):
    """The helper must never wait for work queued behind itself: a batch it is given encodes every
    part itself (and the caller's parts too, when it starts one while the caller's batch runs)."""
    from minembed import _threads

    ours, _ = pair
    corpus = [f"line {i} of the text, {'word ' * (i % 50)}\n" for i in range(4000)]
    expected = [ours.encode_ordinary(t) for t in corpus]
    on_the_helper = _threads.submit(lambda: ours.encode_ordinary_batch(corpus, num_threads=2))
    assert on_the_helper.result(timeout=60) == expected
    assert ours.encode_ordinary_batch(corpus, num_threads=2) == expected


def test_two_thread_batches_from_several_threads_at_once(pair):
    """Every caller shares the one helper thread: each batch must still come back whole and in order,
    long texts (the kernel's kept per-thread buffer) among them."""
    ours, _ = pair
    rng = np.random.default_rng(3)
    words = ["the", " cat", "Zürich", "👍", "\n", "  ", "1234", "I'm"]
    corpora = [["".join(rng.choice(words, size=int(n))) for n in rng.integers(1, 12_000, size=60)] for _ in range(4)]
    expected = [[ours.encode_ordinary(t) for t in corpus] for corpus in corpora]
    results: dict[int, list] = {}
    start = threading.Barrier(len(corpora))

    def work(k: int) -> None:
        start.wait()
        results[k] = [ours.encode_ordinary_batch(corpora[k], num_threads=2) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(corpora))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(len(corpora)):
        assert results[k] == [expected[k]] * 3


def _batch_in_child(texts: list[str]) -> list[list[int]]:
    return minembed.get_encoding("gpt2").encode_ordinary_batch(texts, num_threads=2)


def test_batch_in_a_forked_child_after_the_helper_started():
    enc = minembed.get_encoding("gpt2")
    corpus = [f"line {i}: the quick brown fox\n" * 20 for i in range(400)]  # ~240 kB: two threads
    expected = enc.encode_ordinary_batch(corpus, num_threads=2)  # starts the helper thread here
    with multiprocessing.get_context("fork").Pool(1) as pool:
        # Without the reset at fork, the child's copy of the pool would wait for a thread that does not exist.
        assert pool.apply_async(_batch_in_child, (corpus,)).get(timeout=300) == expected
