"""Counting pieces for BPE training: the Numba engine counts exactly like `regex.findall` + Counter.

The kernels in `minembed.tokenizers.kernels.count` are compared with their twins (which use
the `regex` module and dicts) and with the regex engine of `count_pieces`, for every
registered pattern. (The matchers themselves are tested in test_split.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from minembed.text.classes import char_classes
from minembed.text.cuts import safe_cuts
from minembed.text.kernels import split_numpy
from minembed.text.patterns import GPT4, GPT4_SPLIT_PATTERN, PATTERNS
from minembed.tokenizers import pretokenize
from minembed.tokenizers.kernels import count, count_numpy
from minembed.tokenizers.pretokenize import PieceTable, count_pieces, count_pieces_packed

# Characters where the pattern's alternatives meet: contraction letters in every case (and the
# long s U+017F, which case-folds to s), apostrophes, every kind of whitespace and newline
# (U+0085, U+2028, U+3000; U+001C is NOT \s), digits of other scripts, marks, emoji.
EDGE_CHARS = list("'sSdDmMtTlLvVeErRſ  \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000aZé1٣²½!?.,-_()\u0301😀中")
edge_text = st.text(st.sampled_from(EDGE_CHARS), max_size=40)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # unassigned too
texts_strategy = st.lists(st.one_of(edge_text, any_text), max_size=5)


def encode_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return data, np.cumsum([len(e) for e in encoded], dtype=np.int64)


def split(texts: list[str], pattern: int = GPT4) -> list[bytes]:
    data, text_ends = encode_texts(texts)
    piece_ends = np.empty(len(data), dtype=np.int64)
    n = split_numpy.split_pieces(pattern, data, text_ends, char_classes(), piece_ends)
    bounds = [0] + piece_ends[:n].tolist()
    return [data[a:b].tobytes() for a, b in zip(bounds, bounds[1:])]


def as_dict(table_state) -> dict[bytes, int]:
    _, arena, starts, counts, _, n = table_state[:6]
    return {arena[starts[p] : starts[p + 1]].tobytes(): int(counts[p]) for p in range(n)}


def fresh_state():
    t = PieceTable()
    return t.table, t.arena, t.starts, t.counts, t.hashes, t.n_pieces


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@given(texts=texts_strategy, more=texts_strategy)
def test_count_kernel_equals_twin(pattern, texts, more):
    classes = char_classes()
    fast, twin = fresh_state(), fresh_state()
    for batch in (texts, more):  # two calls: the second one finds pieces already in the table
        data, text_ends = encode_texts(batch)
        *fast, seen_fast = count.count_pieces(pattern, data, text_ends, classes, *fast)
        *twin, seen_twin = count_numpy.count_pieces(pattern, data, text_ends, classes, *twin)
        assert seen_fast == seen_twin
        assert as_dict(fast) == as_dict(twin)
    assert as_dict(fast) == count_pieces(texts + more, PATTERNS[pattern])


@given(texts=texts_strategy, weights_seed=st.integers(0, 2**32 - 1))
def test_add_pieces_with_weights_equals_twin(texts, weights_seed):
    pieces = split(texts)
    data = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    piece_ends = np.cumsum([len(p) for p in pieces], dtype=np.int64)
    weights = np.random.default_rng(weights_seed).integers(1, 1000, len(pieces)).astype(np.int64)
    args = (data, piece_ends, len(pieces), weights)
    fast = count.add_pieces(*args, *fresh_state())
    twin = count_numpy.add_pieces(*args, *fresh_state())
    assert as_dict(fast) == as_dict(twin)
    assert sum(as_dict(fast).values()) == int(weights.sum())


def test_tables_grow_and_merge(corpora):
    # many distinct pieces force every array to grow; two tables merged equal one table
    lines = corpora["tinyshakespeare.txt"].splitlines(keepends=True)
    half = len(lines) // 2
    first, second, whole = PieceTable(), PieceTable(), PieceTable()
    classes = char_classes()
    for table, part in ((first, lines[:half]), (second, lines[half:]), (whole, lines)):
        table.count(GPT4, *encode_texts(part), classes)
    first.add_table(second)
    merged = {
        bytes(k): v
        for k, v in as_dict(
            (first.table, first.arena, first.starts, first.counts, first.hashes, first.n_pieces)
        ).items()
    }
    assert merged == count_pieces(lines, GPT4_SPLIT_PATTERN)
    assert first.n_pieces == whole.n_pieces
    fresh = PieceTable()  # every array had to grow past its initial size
    assert first.table.shape[0] > fresh.table.shape[0] and first.counts.shape[0] > fresh.counts.shape[0]
    assert first.starts[first.n_pieces] > fresh.arena.shape[0]


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_packed_engine_equals_regex_engine(corpora, monkeypatch, num_threads):
    monkeypatch.setattr(pretokenize, "BATCH_CHARS", 5000)  # many batches through the queue
    lines = corpora["warpeace.txt"][:300_000].splitlines(keepends=True)
    tokens, offsets, counts = count_pieces_packed(iter(lines), GPT4_SPLIT_PATTERN, num_threads=num_threads)
    assert tokens.dtype == np.int32 and offsets.dtype == np.int64 and counts.dtype == np.int64
    got = {tokens[a:b].astype(np.uint8).tobytes(): int(c) for a, b, c in zip(offsets[:-1], offsets[1:], counts)}
    assert got == count_pieces(lines, GPT4_SPLIT_PATTERN)


def test_errors_in_the_threaded_engine_propagate(monkeypatch):
    monkeypatch.setattr(pretokenize, "BATCH_CHARS", 10)

    def stream():
        yield from ["fine text"] * 50
        yield 42

    with pytest.raises(TypeError, match="item 50 is int"):
        count_pieces_packed(stream(), GPT4_SPLIT_PATTERN)
    with pytest.raises(UnicodeEncodeError, match="lone surrogate"):
        count_pieces_packed(["ok"] * 50 + ["bad \ud800"], GPT4_SPLIT_PATTERN)


def test_special_tokens_are_cut_out_in_both_engines():
    texts = ["a<|endoftext|>b<|endoftext|><|endoftext|>c d<|x|>"]
    specials = ["<|endoftext|>", "<|x|>"]
    tokens, offsets, counts = count_pieces_packed(texts, GPT4_SPLIT_PATTERN, special_tokens=specials)
    got = {tokens[a:b].astype(np.uint8).tobytes(): int(c) for a, b, c in zip(offsets[:-1], offsets[1:], counts)}
    assert (
        got == count_pieces(texts, GPT4_SPLIT_PATTERN, special_tokens=specials) == {b"a": 1, b"b": 1, b"c": 1, b" d": 1}
    )


line_text = st.lists(
    st.one_of(edge_text, st.sampled_from(["\n", "\nA", "\n\nb", " \nc", "!\nd", "\r\nE", "\n'll"])), max_size=30
).map("".join)


@given(text=line_text)
def test_cutting_a_long_text_keeps_every_piece(text):
    # BATCH_CHARS = 1 cuts at every safe place: the parts must split exactly like the whole
    old = pretokenize.BATCH_CHARS
    pretokenize.BATCH_CHARS = 1
    try:
        parts = list(pretokenize._cut_long_text(text, safe_cuts(GPT4_SPLIT_PATTERN)))
    finally:
        pretokenize.BATCH_CHARS = old
    assert "".join(parts) == text
    pieces_of_parts = [p for part in parts for p in regex.findall(GPT4_SPLIT_PATTERN, part)]
    assert pieces_of_parts == regex.findall(GPT4_SPLIT_PATTERN, text)


def test_one_huge_text_is_cut_and_counted_on_all_threads(corpora, monkeypatch):
    monkeypatch.setattr(pretokenize, "BATCH_CHARS", 2000)
    text = corpora["tinyshakespeare.txt"][:200_000]
    assert len(list(pretokenize._batches(text, safe_cuts(GPT4_SPLIT_PATTERN)))) > 50
    tokens, offsets, counts = count_pieces_packed(text, GPT4_SPLIT_PATTERN)
    got = {tokens[a:b].astype(np.uint8).tobytes(): int(c) for a, b, c in zip(offsets[:-1], offsets[1:], counts)}
    assert got == count_pieces(text, GPT4_SPLIT_PATTERN)
