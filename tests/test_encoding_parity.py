"""minembed.Encoding against tiktoken: the same ids, token for token, for the four public encodings.

Coverage of the shared corpora: every file whole, and line by line. War and Peace (3.2 MB) is
encoded whole for every encoding; line by line, only its first 200 kB (about 3,500 lines) are
used, since the per-line comparison is dominated by Python call overhead on both sides and
the first 200 kB already hold the BOM, CRLF endings and every kind of line the rest has.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

NAMES = ["gpt2", "r50k_base", "cl100k_base", "o200k_base"]
LINE_BY_LINE_LIMIT = 200_000  # characters of each corpus compared line by line

EDGE_CASES = [
    "",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r\n\r\n  \r\n",
    "\t\t \n \n\n   x",
    " " * 37 + "a",
    "a" + " " * 37,
    "hello world",
    "Hello, World! HELLO world.",
    "0",
    "1234567890" * 3,
    " 123 4567 89 0.5 -3e10 1,000,000",
    "I'm you're we've they'll she'd it's don't",
    "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S DON'T",
    "I'm YOU'Re We'VE tHeY'lL",
    "'s 's's'''ll",
    "HelloWorld I'M camelCaseWord XMLHttpRequest",
    "👍 👍🏽 👨‍👩‍👧 🇫🇷",
    "中文字符，日本語のテキスト、한국어 텍스트",
    "e\u0301 a\u0308 n\u0303 \u0301\u0301\u0301",
    "Zürich café naïve façade",
    "Привет, мир! Γειά σου κόσμε",
    "مرحبا بالعالم שלום עולם",
    "\u00a0\u2003\u3000 \u200b\ufeffx",
    "\x00\x01\x1f\x7f",
    "<|endoftext|>",
    "<|endoftext|",
    "a<|endoftext|>b<|endofprompt|>c<|fim_prefix|>",
    "x" * 1000,
    " " * 1000,
    "0" * 1000,
    "\n" * 300,
    "ab" * 400,
    "def f(x):\n    return x ** 2  # square\n\n\tpass\r\n",
    "\ud83d\udc4d",
    "\ud83d",
    "a\udc00b",
    "\udfff\ud800",
]


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    """(minembed encoding, tiktoken encoding) of the same name."""
    return minembed.get_encoding(request.param), tiktoken_encoding(request.param)


def test_vocabulary_is_identical(pair):
    ours, theirs = pair
    assert dict(ours.mergeable_ranks) == theirs._mergeable_ranks
    assert dict(ours.special_tokens) == theirs._special_tokens
    assert ours.pat_str == theirs._pat_str
    assert (ours.n_vocab, ours.max_token_value, ours.eot_token) == (
        theirs.n_vocab,
        theirs.max_token_value,
        theirs.eot_token,
    )
    assert ours.special_tokens_set == theirs.special_tokens_set
    assert ours.token_byte_values() == theirs.token_byte_values()


def test_corpora_whole_files(pair, corpora):
    ours, theirs = pair
    for name, text in corpora.items():
        expected = theirs.encode_ordinary(text)
        assert ours.encode_ordinary(text) == expected, name
        assert np.array_equal(ours.encode_to_numpy(text, disallowed_special=()), expected), name


def test_corpora_line_by_line(pair, corpora):
    ours, theirs = pair
    for name, text in corpora.items():
        lines = text[:LINE_BY_LINE_LIMIT].splitlines(keepends=True)
        assert ours.encode_ordinary_batch(lines) == theirs.encode_ordinary_batch(lines), name
        # Also without the line ends, which changes how trailing whitespace splits.
        stripped = [line.rstrip("\r\n") for line in lines[:500]]
        assert [ours.encode_ordinary(s) for s in stripped] == [theirs.encode_ordinary(s) for s in stripped], name


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases(pair, text):
    ours, theirs = pair
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)
    assert ours.encode(text, disallowed_special=()) == theirs.encode(text, disallowed_special=())
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")


SPECIAL_TEXTS = [
    "hi <|endoftext|>",
    "<|endoftext|><|endoftext|>",
    "a<|endofprompt|>b<|endoftext|>c",
    "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>",
    "<|endoftext|",
    "plain text",
    "hello world",
]


def _outcome(fn):
    try:
        return ("ok", fn())
    except ValueError:
        return ("ValueError", None)


@pytest.mark.parametrize("text", SPECIAL_TEXTS)
def test_special_token_matrix(pair, text):
    """Every combination of allowed/disallowed special tokens: same ids, or ValueError on both sides."""
    ours, theirs = pair
    specials = sorted(theirs.special_tokens_set)
    choices = [set(), {specials[0]}, set(specials), "all"]
    disallowed_choices = ["all", (), {specials[-1]}, {"world"}]
    for allowed in choices:
        for disallowed in disallowed_choices:
            kwargs = dict(allowed_special=allowed, disallowed_special=disallowed)
            expected = _outcome(lambda kwargs=kwargs: theirs.encode(text, **kwargs))
            assert _outcome(lambda kwargs=kwargs: ours.encode(text, **kwargs)) == expected, kwargs


# Any code point (st.characters excludes surrogates unless asked), plus lone surrogates often
# enough to matter: they are 2,048 of 1.1 million code points.
ANY_CHARACTER = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=[]),
    st.integers(0xD800, 0xDFFF).map(chr),
)


@given(st.text(alphabet=ANY_CHARACTER, max_size=200))
def test_hypothesis_full_unicode(text):
    """Any code point, surrogates included: same ids as tiktoken, and decode round-trips."""
    for name in NAMES:
        ours, theirs = minembed.get_encoding(name), tiktoken_encoding(name)
        ids = ours.encode_ordinary(text)
        assert ids == theirs.encode_ordinary(text), name
        assert ours.encode(text, disallowed_special=()) == ids
        if not any(0xD800 <= ord(c) < 0xE000 for c in text):
            assert ours.decode(ids) == text


@given(st.text(alphabet=st.sampled_from(list(" \t\n\r0123456789aAbB'sltvedm.,!?é中👍\u0301<|>")), max_size=120))
def test_hypothesis_tricky_alphabet(text):
    """A small alphabet that makes whitespace runs, digit runs, contractions and specials likely."""
    for name in NAMES:
        ours, theirs = minembed.get_encoding(name), tiktoken_encoding(name)
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), name
        assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all"), name


@given(st.binary(max_size=200))
def test_hypothesis_arbitrary_bytes(data):
    """encode_bytes matches tiktoken's _encode_bytes and decode_bytes gives the bytes back."""
    for name in NAMES:
        ours, theirs = minembed.get_encoding(name), tiktoken_encoding(name)
        ids = ours.encode_bytes(data)
        assert ids == theirs._encode_bytes(data), name
        assert ours.decode_bytes(ids) == data


@given(st.lists(st.integers(0, 50255), max_size=50))
def test_hypothesis_decode(tokens):
    """Decoding any ids gives tiktoken's bytes and text (with replacement characters)."""
    ours, theirs = minembed.get_encoding("gpt2"), tiktoken_encoding("gpt2")
    assert ours.decode_bytes(tokens) == theirs.decode_bytes(tokens)
    assert ours.decode(tokens) == theirs.decode(tokens)
    assert ours.decode(tokens, errors="ignore") == theirs.decode(tokens, errors="ignore")


@pytest.mark.parametrize("text", ["x" * 100_000, " " * 100_000, "0" * 100_000, "ab " * 30_000])
def test_catastrophic_repetition(pair, text):
    ours, theirs = pair
    ids = ours.encode_ordinary(text)
    assert ids == theirs.encode_ordinary(text)
    assert ours.decode(ids) == text
