"""The splitting unit (`minembed.text`): every registered pattern's matcher splits exactly like `regex.findall`.

Also: the class table, the safe cut points of each pattern, the one piece hash against its
twin; the one-call encoder (`tokenizers.kernels.encode`) equals its twin and the regex path of
`Encoding`, the engine is chosen by the exact pattern text, and batches on two threads give
the same ids as tiktoken.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import minembed
from minembed.text import classes as char_bits
from minembed.text.classes import LOWER, UPPER, char_classes
from minembed.text.cuts import safe_cuts
from minembed.text.kernels import hash as hash_kernels
from minembed.text.kernels import hash_numpy, split, split_numpy
from minembed.text.patterns import (
    CL100K,
    GPT2,
    GPT2_SPLIT_PATTERN,
    GPT4,
    GPT4_SPLIT_PATTERN,
    O200K,
    PATTERN_IDS,
    PATTERNS,
    pattern_id,
)
from minembed.tokenizers.fast_encode import NumbaEncoder, TokenTable
from minembed.tokenizers.kernels import encode, encode_numpy
from minembed.tokenizers.merges import MergeTable
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

ALL_PATTERNS = sorted(PATTERNS)  # every registered pattern: a new one is tested here by itself

# Characters where the alternatives meet: contraction letters in every case, the long s
# (folds to s), Kelvin sign and Turkish dotted/dotless i (fold to letters NOT in any
# contraction), every kind of whitespace (U+001C and U+200B are NOT \s), digits of other
# scripts, title case (Lt), modifier (Lm) and other (Lo) letters, the three kinds of marks,
# "/" (o200k's punctuation tail), emoji.
EDGE_CHARS = list(
    "'sSdDmMtTlLvVeErRſKİıiI  \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\u200baZéß1٣²½Ⅻǅʰ中\u0301\u0903\u20dd!?.,-_(/😀"
)
# Pieces of words, to build CamelCase runs and contractions for o200k.
WORD_PARTS = [
    "Hello",
    "HTML",
    "Parser",
    "x",
    "'s",
    "'S",
    "'ll",
    "'LL",
    "'Re",
    "'ve",
    "'d",
    "'ſ",
    "'t",
    "'m",
    "ǅ",
    "ʰ",
    "中",
    "\u0301",
    " ",
    "  ",
    "\n",
    "\r\n",
    "123",
    "4",
    "!",
    "/",
    "\t",
    "İ",
    "ı",
    "<|endoftext|>",
    "<|fim_prefix|>",
    " <|endofprompt|>\n",
]  # special-token literals are ordinary text here

edge_text = st.text(st.sampled_from(EDGE_CHARS), max_size=40)
word_text = st.lists(st.sampled_from(WORD_PARTS), max_size=12).map("".join)
space_text = st.text(st.sampled_from(list(" \t\n\r\x0b\x85\u3000a1!")), max_size=30)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # unassigned code points too
one_text = st.one_of(edge_text, word_text, space_text, any_text)
texts_strategy = st.lists(one_text, max_size=4)


def encode_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return data, np.cumsum([len(e) for e in encoded], dtype=np.int64)


def split_with(module, pattern: int, texts: list[str]) -> list[bytes]:
    data, text_ends = encode_texts(texts)
    piece_ends = np.empty(len(data), dtype=np.int64)
    n = module.split_pieces(pattern, data, text_ends, char_classes(), piece_ends)
    return [data[a:b].tobytes() for a, b in pairwise([0, *piece_ends[:n].tolist()])]


def findall(pattern: int, texts: list[str]) -> list[bytes]:
    return [p.encode("utf-8") for t in texts for p in regex.findall(PATTERNS[pattern], t)]


GOLDEN = {  # checked by hand against the alternation order, then against regex below
    GPT2: [
        ("I'm  don'T 1234x!!\n\n  ", ["I", "'m", " ", " don", "'", "T", " 1234", "x", "!!", "\n\n  "]),
        ("HTMLParser's ǅx 'LL\tfoo\r\n/ ", ["HTMLParser", "'s", " ǅx", " '", "LL", "\t", "foo", "\r", "\n", "/", " "]),
    ],
    CL100K: [
        ("I'm  don'T 1234x!!\n\n  ", ["I", "'m", " ", " don", "'T", " ", "123", "4", "x", "!!\n\n", "  "]),
        ("HTMLParser's ǅx 'LL\tfoo\r\n/ ", ["HTMLParser", "'s", " ǅx", " '", "LL", "\tfoo", "\r\n", "/", " "]),
    ],
    O200K: [
        ("I'm  don'T 1234x!!\n\n  ", ["I'm", " ", " don'T", " ", "123", "4", "x", "!!\n\n", "  "]),
        ("HTMLParser's ǅx 'LL\tfoo\r\n/ ", ["HTMLParser's", " ǅx", " '", "LL", "\tfoo", "\r\n", "/", " "]),
        ("a \u0301b  \n", ["a", " \u0301b", "  \n"]),  # a mark after the space is in U and W
    ],
    GPT4: [
        (
            "Hello world's 12345 don'T  \n\n  x!!\r\n 'll ſ 'ſ",
            [
                "Hello",
                " world",
                "'s",
                " ",
                "123",
                "45",
                " don",
                "'T",
                "  \n\n",
                " ",
                " x",
                "!!\r\n",
                " '",
                "ll",
                " ſ",
                " '",
                "ſ",
            ],
        ),
        ("end \n  ", ["end", " \n", "  "]),  # no \s++$: the run is still cut after its newline (cl100k: one piece)
    ],
}


def test_every_registered_pattern_has_an_id_and_golden_cases():
    assert set(PATTERN_IDS.values()) == set(GOLDEN) == set(PATTERNS)
    assert all(pattern_id(text) == pid for text, pid in PATTERN_IDS.items())
    assert pattern_id(GPT2_SPLIT_PATTERN + "|x") is None


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
def test_golden_splits(pattern):
    for text, expected in GOLDEN[pattern]:
        assert regex.findall(PATTERNS[pattern], text) == expected
        assert split_with(split, pattern, [text]) == [p.encode() for p in expected]


def test_class_table_sanity():
    classes = char_classes()
    assert classes[ord("a")] & char_bits.LETTER and classes[ord("٣")] & char_bits.NUMBER
    assert classes[0x3000] & char_bits.SPACE and not classes[0x1C] & char_bits.SPACE
    assert classes.shape == (0x110000,) and classes.dtype == np.uint16
    assert classes[ord("A")] & UPPER and not classes[ord("A")] & LOWER
    assert classes[ord("a")] & LOWER and not classes[ord("a")] & UPPER
    for both in "ʰ中\u0301":  # Lm, Lo, Mn are in both of o200k's case classes
        assert classes[ord(both)] & UPPER and classes[ord(both)] & LOWER
    assert classes[ord("ǅ")] & UPPER and not classes[ord("ǅ")] & LOWER  # Lt
    fold = (classes >> char_bits.FOLD_SHIFT) & char_bits.FOLD_MASK
    assert fold[ord("ſ")] == fold[ord("S")] == fold[ord("s")] == 1
    assert fold[ord("ı")] == fold[ord("İ")] == fold[0x212A] == 0


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
@given(texts=texts_strategy)
def test_split_equals_regex(pattern, texts):
    expected = findall(pattern, texts)
    assert split_with(split, pattern, texts) == expected
    assert split_with(split_numpy, pattern, texts) == expected


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
def test_corpora_split_equals_regex(pattern, corpora):
    for name, text in corpora.items():
        assert split_with(split, pattern, [text]) == findall(pattern, [text]), name
        lines = text[:100_000].splitlines(keepends=True)  # many texts in one call
        assert split_with(split, pattern, lines) == findall(pattern, lines), name


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
@given(
    text=st.lists(
        st.one_of(edge_text, word_text, st.sampled_from(["\n", "\nA", " b", "x\n\nay", ".\n/"])), max_size=20
    ).map("".join)
)
def test_cutting_at_every_safe_cut_keeps_every_piece(pattern, text):
    cuts = safe_cuts(PATTERNS[pattern])
    points = [i for i in range(1, len(text)) if cuts.is_cut(text, i)]
    assert points == [i for i in range(1, len(text)) if cuts.next_cut(text, i) == i]
    bounds = [0, *points, len(text)]
    parts = [text[a:b] for a, b in pairwise(bounds)]
    assert [p for part in parts for p in regex.findall(PATTERNS[pattern], part)] == regex.findall(
        PATTERNS[pattern], text
    )
    if points:
        assert cuts.last_cut(text) == points[-1]


@given(data=st.binary(max_size=30), lo=st.integers(0, 30), length=st.integers(0, 30))
def test_piece_hash_equals_twin(data, lo, length):
    array = np.frombuffer(data, dtype=np.uint8)
    lo, hi = min(lo, len(data)), min(lo + length, len(data))
    assert hash_kernels.piece_hash(array, lo, hi) == hash_numpy.piece_hash(array, lo, hi)
    hashes = np.array([hash_numpy.piece_hash(array, 0, k) for k in range(len(data) + 1)], dtype=np.int64)
    size = 1 << (2 * len(hashes)).bit_length()
    np.testing.assert_array_equal(
        hash_kernels.slot_table(hashes, len(hashes), size), hash_numpy.slot_table(hashes, len(hashes), size)
    )


# ------------------------------------------------------------------ the one-call encoder


def tiny_table(pattern: int) -> NumbaEncoder:
    """All 256 bytes, a few merges, and tokens (' xy', 'yz') that BPE alone cannot reach."""
    ranks = {bytes([b]): b for b in range(256)}
    for token in (b"ab", b"abc", b" a", b" ab", b"12", b"  ", b"\n\n", b" xy", b"yz", "é".encode()):
        ranks[token] = len(ranks)
    return NumbaEncoder(pattern, TokenTable.from_ranks(ranks), MergeTable.from_ranks(ranks))


def run_encode(module, enc: NumbaEncoder, texts: list[str]):
    data, text_ends = encode_texts(texts)
    out_ids = np.empty(len(data), dtype=np.uint32)
    out_text_ends = np.zeros(len(texts), dtype=np.int64)
    t, m = enc.tokens, enc.merges
    n_last = module.encode_texts(
        enc.pattern,
        data,
        text_ends,
        enc.classes,
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
    return out_ids[: out_text_ends[-1] if len(texts) else 0].tolist(), out_text_ends.tolist(), int(n_last)


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
@given(texts=st.lists(st.one_of(edge_text, st.text("ab c12xyz\né", max_size=30)), max_size=4))
def test_encode_kernel_equals_twin(pattern, texts):
    enc = tiny_table(pattern)
    assert run_encode(encode, enc, texts) == run_encode(encode_numpy, enc, texts)


def test_token_table_kernel_equals_twin():
    ranks = {b"a": 7, b"ab": 3, b"\xff": 0, b"hello world": 9}
    table = TokenTable.from_ranks(ranks)
    slots = np.full(table.slots.shape[0], -1, dtype=np.int32)
    assert encode_numpy.build_token_table(table.arena, table.starts, slots).tolist() == table.hashes.tolist()
    assert slots.tolist() == table.slots.tolist()
    data = np.frombuffer(b"ab hello world a b\xff", dtype=np.uint8)
    for lo, hi in [(0, 2), (0, 1), (3, 14), (15, 16), (17, 18), (18, 19), (2, 3), (0, 0)]:
        args = (data, lo, hi, table.slots, table.arena, table.starts, table.ranks, table.hashes)
        expected = ranks.get(data[lo:hi].tobytes(), -1)
        assert encode.token_rank(*args) == encode_numpy.token_rank(*args) == expected


def _gpt4_encoding():
    ranks = dict(minembed.get_encoding("cl100k_base").mergeable_ranks)
    return minembed.Encoding("gpt4-pattern", pat_str=GPT4_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={})


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base", "o200k_base", "gpt4-pattern"])
@given(text=one_text)
def test_numba_path_equals_regex_path(name, text):
    enc = _gpt4_encoding() if name == "gpt4-pattern" else minembed.get_encoding(name)
    assert enc._numba is not None
    assert enc._encode_ordinary(text) == enc._encode_ordinary_regex(text)  # ids and last-piece length


def test_engine_is_chosen_by_exact_pattern_text():
    for name in minembed.list_encoding_names():
        enc = minembed.get_encoding(name)
        assert (enc._numba is not None) == (enc.pat_str in PATTERN_IDS)
    gpt2 = minembed.get_encoding("gpt2")
    ranks = dict(gpt2.mergeable_ranks)
    same = minembed.Encoding("my-name", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={})
    assert same._numba is not None and same._numba.pattern == GPT2
    # the same language written differently is not recognised: it takes the regex path
    other = minembed.Encoding("gpt2", pat_str=GPT2_SPLIT_PATTERN + "|\\s", mergeable_ranks=ranks, special_tokens={})
    assert other._numba is None
    text = "Don't   split 123 me!\n"
    assert other.encode(text) == same.encode(text) == gpt2.encode(text)


def test_forgetting_merged_pieces_keeps_results():
    # more distinct pieces that are not tokens than one call remembers (_MAX_SEEN)
    rng = np.random.default_rng(7)
    letters = np.frombuffer(b"bcdfghjklmnpqrstvwxz", dtype=np.uint8)
    words = rng.choice(letters, size=(encode._MAX_SEEN + 5000, 9))
    text = " ".join(w.tobytes().decode() for w in words)
    ours, theirs = minembed.get_encoding("gpt2"), tiktoken_encoding("gpt2")
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_batches_on_two_threads_equal_tiktoken(name, corpora):
    ours, theirs = minembed.get_encoding(name), tiktoken_encoding(name)
    lines = corpora["tinyshakespeare.txt"][:300_000].splitlines(keepends=True) + ["a\ud800b", ""]
    expected = theirs.encode_ordinary_batch(lines)
    assert ours.encode_ordinary_batch(lines, num_threads=2) == expected
    assert ours.encode_ordinary_batch(lines, num_threads=1) == expected
    assert ours.encode_batch(lines, num_threads=2) == expected
    with_specials = [line + "<|endoftext|>" + line for line in lines[:200]]
    assert ours.encode_batch(with_specials, allowed_special="all") == theirs.encode_batch(
        with_specials, allowed_special="all"
    )
    np.testing.assert_array_equal(ours.encode_to_numpy(lines[3]), theirs.encode_to_numpy(lines[3]))


@settings(max_examples=20)
@given(data=st.binary(max_size=40), text=edge_text)
def test_encode_bytes_with_invalid_utf8(data, text):
    ours, theirs = minembed.get_encoding("o200k_base"), tiktoken_encoding("o200k_base")
    blob = text.encode("utf-8") + data
    assert ours.encode_bytes(blob) == theirs._encode_bytes(blob)
