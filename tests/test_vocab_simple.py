"""Vocab and SimpleTokenizer, checked against the course behaviour rebuilt in reference/course_data.py."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed import SimpleTokenizer, Vocab
from minembed.tokenizers.simple import split_words
from reference.course_data import CourseSimpleTokenizer, course_split, course_vocab

# Characters that exercise every rule: the punctuation set, "-" (a delimiter only when doubled),
# ASCII and Unicode whitespace (re's \s and str.strip agree on them), letters, digits, other marks.
ALPHABET = (
    list(",.:;?_!\"()'-")
    + [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2003", "\u3000"]
    + list("abcXYZ019é中<|>&*/")
)
texts = st.text(alphabet=ALPHABET, max_size=80)


# ---------------------------------------------------------------- parity with the course behaviour


@given(texts)
def test_split_matches_course(text):
    assert split_words(text) == course_split(text)


@given(vocab_text=texts, text=texts)
def test_encode_decode_match_course(vocab_text, text):
    ours = SimpleTokenizer.from_text(vocab_text)
    theirs = CourseSimpleTokenizer(course_vocab(vocab_text))
    assert ours.vocab.stoi == course_vocab(vocab_text)
    ids = ours.encode(text)
    assert ids == theirs.encode(text)
    assert ours.decode(ids) == theirs.decode(ids)


def test_the_verdict_matches_course(corpora):
    verdict = corpora["the-verdict.txt"]
    ours = SimpleTokenizer.from_text(verdict)
    theirs = CourseSimpleTokenizer(course_vocab(verdict))
    assert ours.vocab.stoi == course_vocab(verdict)
    assert len(ours.vocab) == len(set(course_split(verdict))) + 2
    ids = ours.encode(verdict)
    assert ids == theirs.encode(verdict)
    assert ours.decode(ids) == theirs.decode(ids)
    # a text with words the story never uses, joined by the end-of-text marker
    mixed = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace."
    ids = ours.encode(mixed)
    assert ids == theirs.encode(mixed)
    assert ours.vocab["<|unk|>"] in ids and ours.vocab["<|endoftext|>"] in ids
    assert ours.decode(ids) == theirs.decode(ids)


def test_split_golden_cases():
    assert split_words('Hello, world-- "yes"') == ["Hello", ",", "world", "--", '"', "yes", '"']
    assert split_words("well-known a---b") == ["well-known", "a", "--", "-b"]
    assert split_words("  \n\t ") == []
    with pytest.raises(TypeError, match="str"):
        split_words(b"bytes")


def test_decode_keeps_space_before_underscore_like_the_course():
    tok = SimpleTokenizer.from_text("a _ b , c")
    assert tok.decode(tok.encode("a _ b , c")) == "a _ b, c"


# ------------------------------------------------------------------------------------------ Vocab


def test_vocab_order_is_sorted_words_then_specials():
    vocab = Vocab.from_tokens(["the", "cat", "the", "A"], special_tokens=["<|endoftext|>", "<|unk|>"])
    assert vocab.tokens == ("A", "cat", "the", "<|endoftext|>", "<|unk|>")
    assert [vocab[t] for t in vocab] == list(range(5))
    assert vocab.id_to_token(4) == "<|unk|>" and vocab.token_to_id("cat") == 1
    assert len(vocab) == 5 and "cat" in vocab and "dog" not in vocab and 3 not in vocab
    assert vocab.special_tokens == ("<|endoftext|>", "<|unk|>")
    assert vocab.itos == {i: t for t, i in vocab.stoi.items()}


def test_special_token_in_stream_is_placed_once_at_the_end():
    vocab = Vocab.from_tokens(["b", "<|unk|>", "a"], special_tokens=["<|unk|>"])
    assert vocab.tokens == ("a", "b", "<|unk|>")


@given(st.lists(st.text(max_size=4), max_size=30), st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=3))
def test_vocab_is_a_bijection(words, specials):
    vocab = Vocab.from_tokens(words, special_tokens=specials)
    assert len(vocab) == len(set(words) | set(specials))
    assert list(vocab.tokens[len(vocab) - len(specials) :]) == specials
    for i, token in enumerate(vocab.tokens):
        assert vocab[token] == i and vocab.id_to_token(i) == token


def test_vocab_errors_name_the_problem():
    vocab = Vocab(["a", "b"])
    with pytest.raises(KeyError, match="'zebra'"):
        vocab["zebra"]
    with pytest.raises(KeyError, match="token id 2"):
        vocab.id_to_token(2)
    with pytest.raises(KeyError, match="token id -1"):
        vocab.id_to_token(-1)
    with pytest.raises(TypeError, match="integers"):
        vocab.id_to_token(1.0)
    with pytest.raises(ValueError, match="'a' appears twice"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="special_tokens"):
        Vocab(["a"], special_tokens=["<|unk|>"])
    with pytest.raises(TypeError, match="wrap it in a tuple"):
        Vocab.from_tokens(["a"], special_tokens="<|unk|>")
    with pytest.raises(ValueError, match="0..1"):
        Vocab.from_mapping({"a": 0, "b": 2})


def test_vocab_save_load_round_trip(tmp_path):
    vocab = Vocab.from_tokens(["zé", "中", "a"], special_tokens=["<|endoftext|>"])
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.special_tokens == ("<|endoftext|>",)
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temp file left


def test_vocab_loads_a_course_style_dict(tmp_path, corpora):
    mapping = course_vocab(corpora["the-verdict.txt"])
    (tmp_path / "course.json").write_text(json.dumps(mapping), encoding="utf-8")
    assert Vocab.load(tmp_path / "course.json").stoi == mapping
    tok = SimpleTokenizer(mapping)  # a plain dict works too
    assert tok.encode("the dog") == CourseSimpleTokenizer(mapping).encode("the dog")


# ------------------------------------------------------------------------------ SimpleTokenizer API


def test_unknown_word_without_unk_token_raises_naming_it():
    tok = SimpleTokenizer.from_text("a b", special_tokens=("<|endoftext|>",))
    assert tok.encode("a <|endoftext|> b") == [0, 2, 1]
    with pytest.raises(KeyError, match="'zebra'"):
        tok.encode("a zebra")


def test_custom_unk_token_and_multiple_texts():
    tok = SimpleTokenizer.from_text(["one two", "three"], special_tokens=("[UNK]",), unk_token="[UNK]")
    assert tok.vocab.tokens == ("one", "three", "two", "[UNK]")
    assert tok.encode("two four") == [2, 3]
    assert tok.n_vocab == 4
    with pytest.raises(KeyError, match="token id 9"):
        tok.decode([9])
    with pytest.raises(TypeError, match="Vocab"):
        SimpleTokenizer(["a", "b"])
