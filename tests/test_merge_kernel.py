"""The BPE merge kernel against its pure-Python twin, on hand-checkable vocabularies and real ones."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.text.patterns import GPT2_SPLIT_PATTERN
from minembed.tokenizers.kernels import merge, merge_numpy
from minembed.tokenizers.merges import MergeTable
from reference import tiktoken_ref
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

KERNELS = {"numba": merge.bpe_encode_pieces, "python": merge_numpy.bpe_encode_pieces}


def byte_vocab(*merged: bytes) -> dict[bytes, int]:
    """The 256 single bytes (ids 0..255 in byte order), then `merged` with ids 256, 257, ..."""
    ranks = {bytes([b]): b for b in range(256)}
    for token in merged:
        ranks[token] = len(ranks)
    return ranks


def test_pair_table_by_hand():
    ranks = {b"a": 0, b"b": 1, b"ab": 2, b"abb": 3, b"bb": 4}
    table = MergeTable.from_ranks(ranks)
    # abb splits as ab+b and as a+bb: both pairs lead to it.
    assert table.pairs[1] == 1  # small ids: one packed word per slot
    words = table.pairs[2:][table.pairs[2:] >= 0]
    pairs = {(int(w) >> 42, (int(w) >> 21) & 0x1FFFFF): int(w) & 0x1FFFFF for w in words}
    assert pairs == {(0, 1): 2, (2, 1): 3, (0, 4): 3, (1, 1): 4}
    for lookup in (merge.pair_rank, merge_numpy.pair_rank):
        assert lookup(table.pairs, 0, 1) == 2
        assert lookup(table.pairs, 0, 4) == 3
        assert lookup(table.pairs, 1, 0) == -1
        assert lookup(table.pairs, -1, 1) == -1
    assert table.byte_ranks[ord("a")] == 0 and table.byte_ranks[ord("c")] == -1


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS.keys())
def test_merge_rule_by_hand(kernel):
    """Lowest rank first, ties to the leftmost pair; merging stops when no pair is a token."""
    table = MergeTable.from_ranks(byte_vocab(b"aa", b"bc", b"abc"))
    aa, bc, abc = 256, 257, 258
    a, b, c = ord("a"), ord("b"), ord("c")
    cases = {
        b"aaa": [aa, a],  # tie between both "aa" pairs: the leftmost wins
        b"aaaa": [aa, aa],
        b"abc": [abc],  # bc (257) first, then a+bc = abc (258)
        b"aabc": [aa, bc],  # aa (256) first; then aa+bc is not a token
        b"cab": [c, a, b],
        b"a": [a],
    }
    got = table.encode_pieces(list(cases), kernel=kernel)
    assert got == list(cases.values())


@pytest.mark.parametrize("kernel", KERNELS.values(), ids=KERNELS.keys())
def test_missing_byte_is_marked(kernel):
    ranks = {b"a": 0, b"b": 1, b"ab": 2}
    table = MergeTable.from_ranks(ranks)
    assert table.encode_pieces([b"abz", b"ab"], kernel=kernel) == [[2, -1], [2]]


def test_empty_batch_and_empty_piece():
    table = MergeTable.from_ranks(byte_vocab(b"ab"))
    for kernel in KERNELS.values():
        assert table.encode_pieces([], kernel=kernel) == []
        assert table.encode_pieces([b"", b"ab", b""], kernel=kernel) == [[], [256], []]


def letters(alphabet: str, min_size: int, max_size: int):
    """Byte strings over a few letters (st.binary has no alphabet)."""
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size).map(str.encode)


small_vocab = st.lists(letters("abc", 2, 4), unique=True, max_size=40)


@given(merged=small_vocab, pieces=st.lists(letters("abcd", 0, 150), max_size=8))
def test_kernel_equals_twin_on_random_vocabularies(merged, pieces):
    """Dense vocabularies over a 4-letter alphabet make ties and long merge chains common;
    pieces longer than 64 bytes take the kernel's heap path."""
    table = MergeTable.from_ranks(byte_vocab(*merged))
    fast = table.encode_pieces(pieces, kernel=merge.bpe_encode_pieces)
    slow = table.encode_pieces(pieces, kernel=merge_numpy.bpe_encode_pieces)
    assert fast == slow
    ranks = byte_vocab(*merged)
    id_to_bytes = {i: t for t, i in ranks.items()}
    assert [b"".join(id_to_bytes[i] for i in ids) for ids in fast] == pieces


@given(st.lists(st.text(max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass")), min_size=1, max_size=6))
def test_kernel_equals_twin_and_tiktoken_on_cl100k(pieces):
    ours = minembed.get_encoding("cl100k_base")
    theirs = tiktoken_encoding("cl100k_base")
    fast = ours._table.encode_pieces(pieces, kernel=merge.bpe_encode_pieces)
    assert fast == ours._table.encode_pieces(pieces, kernel=merge_numpy.bpe_encode_pieces)
    # tiktoken's whole-piece shortcut can differ from a full merge only when the piece is a token.
    for piece, ids in zip(pieces, fast):
        if piece and piece not in ours.mergeable_ranks:
            assert ids == theirs._encode_single_piece(piece)


@pytest.mark.parametrize("piece", [b"x" * 300, b" " * 257, b"0" * 200, "héllo wörld 你好 ".encode() * 20])
def test_long_pieces_heap_path_equals_twin(piece):
    table = minembed.get_encoding("gpt2")._table
    fast = table.encode_pieces([piece], kernel=merge.bpe_encode_pieces)
    assert fast == table.encode_pieces([piece], kernel=merge_numpy.bpe_encode_pieces)
    assert fast[0] == tiktoken_encoding("gpt2")._encode_single_piece(piece)


def test_million_byte_piece_matches_tiktoken():
    """tiktoken #195: one 1 MB piece of a single repeated byte (o200k, as tiktoken's own test)."""
    text = "x" * 1_000_000
    ours = minembed.get_encoding("o200k_base")
    ids = ours.encode_ordinary(text)
    assert ids == tiktoken_encoding("o200k_base").encode_ordinary(text)
    assert ours.decode(ids) == text


def test_flat_output_layout():
    table = MergeTable.from_ranks(byte_vocab(b"ab"))
    ids, offsets = table.encode_pieces_flat([b"ab", b"ba", b"a"])
    assert ids.dtype == np.int64 and offsets.dtype == np.int64
    assert ids.tolist() == [256, ord("b"), ord("a"), ord("a")]
    assert offsets.tolist() == [0, 1, 3, 4]


@given(merged=small_vocab, spread=st.sampled_from([1, 1 << 22]))
def test_pair_lookup_finds_every_pair_and_nothing_else(merged, spread):
    """The hash table holds exactly the pairs whose concatenation is a token, found by kernel and twin alike.

    spread: the gap between the ranks of the merged tokens; 1 << 22 makes ranks above 2**21, which
    take the two-word slots."""
    ranks = {bytes([b]): b for b in range(256)}
    for k, token in enumerate(merged):
        ranks[token] = 256 + k * spread
    table = MergeTable.from_ranks(ranks)
    if spread == 1:
        assert table.pairs[1] == 1  # small ids: one packed word per slot (large ones in a pair take two)
    ids = sorted({ranks[bytes([b])] for b in b"abcd"} | set(ranks.values()) - set(range(256)))
    id_to_bytes = {i: t for t, i in ranks.items()}
    for left in ids:
        for right in ids:
            expected = ranks.get(id_to_bytes[left] + id_to_bytes[right], -1)
            assert merge.pair_rank(table.pairs, left, right) == expected
            assert merge_numpy.pair_rank(table.pairs, left, right) == expected
    pieces = [b"abcabc", b"aabbcc", b"cba" * 30]  # the last one takes the heap path
    assert table.encode_pieces(pieces, kernel=merge.bpe_encode_pieces) == table.encode_pieces(
        pieces, kernel=merge_numpy.bpe_encode_pieces
    )


def test_ranks_above_two_million_match_tiktoken(tmp_path):
    """Ranks up to 2**31 are allowed: the pair table then takes two words per slot, on both engines' paths."""
    ranks = {bytes([b]): b for b in range(256)}
    for k, token in enumerate([b"th", b"the", b" t", b" th", b" the", b"he", b"er", b"ere", b" w"]):
        ranks[token] = (1 << 30) + 7 * k
    path = tmp_path / "wide.tiktoken"
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
    ours = minembed.Encoding("wide", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={})
    theirs = tiktoken_ref.encoding_from_file(path, GPT2_SPLIT_PATTERN, {})
    assert ours._table.pairs[1] == 2
    texts = ["there the other", "where there were three", "th" * 50, ""]
    for text in texts:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), text
    assert ours.encode_ordinary_batch(texts) == theirs.encode_ordinary_batch(texts)
