"""BPE training: minembed's merges equal rustbpe's exactly (and the slow pure-Python oracle's).

rustbpe is called through `reference.rustbpe_ref`; `reference.slow_bpe` recounts every pair
before each merge. The Numba merge kernel and its pure-Python twin are compared directly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.text.patterns import ENDOFTEXT, GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN
from minembed.tokenizers import pretokenize
from minembed.tokenizers.formats import dump_tiktoken_bpe
from minembed.tokenizers.kernels import train_merges, train_merges_numpy
from minembed.tokenizers.pretokenize import count_pieces, pack_pieces
from minembed.tokenizers.train import train_bpe, train_bpe_ranks
from reference import rustbpe_ref, slow_bpe


def ranks_quietly(texts, vocab_size, **kwargs) -> dict[bytes, int]:
    """train_bpe_ranks with the early-stop warning silenced (tiny corpora run out of pairs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return train_bpe_ranks(texts, vocab_size, progress=False, **kwargs)


def both_kernels(texts, n_merges: int, pat_str: str = GPT4_SPLIT_PATTERN):
    tokens, offsets, counts = pack_pieces(count_pieces(texts, pat_str))
    fast = train_merges.train_merges(tokens, offsets, counts, n_merges, np.zeros(1, np.int64))
    twin = train_merges_numpy.train_merges(tokens, offsets, counts, n_merges, np.zeros(1, np.int64))
    return fast, twin


# ---------------------------------------------------------------- the oracle itself


def test_default_pattern_is_rustbpes(corpora):
    assert rustbpe_ref.default_pattern() == GPT4_SPLIT_PATTERN
    text = corpora["the-verdict.txt"]
    assert rustbpe_ref.train_ranks(text, 400) == rustbpe_ref.train_ranks(text, 400, pattern=GPT4_SPLIT_PATTERN)


def test_tie_rule_is_smallest_pair_not_first_seen():
    # pieces "ab" and " cd": three pairs, all with count 1. First-seen (minbpe) would merge
    # (a, b); rustbpe merges the smallest pair (32, 99) = b" c".
    ranks = rustbpe_ref.train_ranks("ab cd", 257)
    assert max(ranks, key=ranks.get) == b" c"
    assert ranks_quietly("ab cd", 257) == ranks


def test_merges_apply_left_to_right_without_overlap():
    # "aaaaa": merging (a, a) left to right gives [aa, aa, a] (right to left would give
    # [a, aa, aa]); then (aa, aa) = (256, 256) and (aa, a) = (256, 97) tie at 1, and the
    # smaller pair (256, 97) wins: [aa, aaa]; last comes (aa, aaa).
    expected = [b"aa", b"aaa", b"aaaaa"]
    ranks = rustbpe_ref.train_ranks("aaaaa", 259)
    assert sorted(ranks, key=ranks.get)[256:] == expected
    assert sorted(r := ranks_quietly("aaaaa", 259), key=r.get)[256:] == expected


# ---------------------------------------------------------------- shared corpora


@pytest.mark.parametrize("name", ["the-verdict.txt", "taylorswift.txt"])
@pytest.mark.parametrize("vocab_size", [256, 300, 1000, 3000])
def test_shared_corpora_match_rustbpe(corpora, name, vocab_size):
    text = corpora[name]
    assert ranks_quietly(text, vocab_size) == rustbpe_ref.train_ranks(text, vocab_size)


@pytest.mark.parametrize(("name", "vocab_size"), [("tinyshakespeare.txt", 2000), ("warpeace.txt", 600)])
def test_larger_corpora_match_rustbpe(corpora, name, vocab_size):
    lines = corpora[name].splitlines(keepends=True)  # streamed as many texts, BOM and CRLF kept
    assert ranks_quietly(iter(lines), vocab_size) == rustbpe_ref.train_ranks(lines, vocab_size)


def test_vocab_50k_on_all_shared_corpora_matches_rustbpe(corpora):
    texts = [corpora[name] for name in sorted(corpora)]  # ~4.6 MB, enough pairs for 50k tokens
    ranks = ranks_quietly(texts, 50_000)
    assert len(ranks) == 50_000
    assert ranks == rustbpe_ref.train_ranks(texts, 50_000)


def test_other_pattern_matches_rustbpe(corpora):
    text = corpora["taylorswift.txt"]
    expected = rustbpe_ref.train_ranks(text, 700, pattern=GPT2_SPLIT_PATTERN)
    assert ranks_quietly(text, 700, pat_str=GPT2_SPLIT_PATTERN) == expected


def test_kernel_equals_twin_on_a_real_corpus(corpora):
    fast, twin = both_kernels(corpora["the-verdict.txt"], 1500)
    assert fast.dtype == np.int32 and fast.shape == twin.shape
    np.testing.assert_array_equal(fast, twin)


# ---------------------------------------------------------------- Hypothesis corpora

# Few distinct characters -> many pairs with equal counts, so the tie rule decides often.
tie_heavy = st.lists(st.text(alphabet="ab \n", max_size=40), max_size=6)
# Long runs of one character, where the non-overlapping left-to-right rule matters.
repeats = st.lists(
    st.builds(lambda ch, n: ch * n, st.sampled_from(["a", " ", "é", "\n", "1", "ab", "😀"]), st.integers(1, 200)),
    min_size=0,
    max_size=4,
)
# Any scripts (letters, digits, marks, emoji, controls), but no lone surrogates (no UTF-8 form)
# and only characters assigned in Python's unicodedata (Unicode 14): newer characters, e.g.
# U+3D000, are letters to the `regex` module (newer Unicode) but not to rustbpe's Rust regex,
# so the two split them differently. That is a Unicode-version gap, not a training difference.
mixed = st.lists(st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=60), max_size=5)
corpora_strategy = st.one_of(tie_heavy, repeats, mixed)


@given(texts=corpora_strategy, vocab_size=st.integers(256, 420))
def test_hypothesis_corpora_match_rustbpe(texts, vocab_size):
    assert ranks_quietly(texts, vocab_size) == rustbpe_ref.train_ranks(texts, vocab_size)


@given(texts=st.one_of(tie_heavy, repeats), vocab_size=st.integers(256, 330))
def test_hypothesis_corpora_match_slow_oracle(texts, vocab_size):
    assert ranks_quietly(texts, vocab_size) == slow_bpe.train(texts, vocab_size, GPT4_SPLIT_PATTERN)


@given(texts=corpora_strategy, n_merges=st.integers(0, 200))
def test_kernel_equals_twin(texts, n_merges):
    fast, twin = both_kernels(texts, n_merges)
    np.testing.assert_array_equal(fast, twin)
    assert len(fast) <= n_merges


@pytest.mark.parametrize("texts", ["", [], [""], ["", ""], "a", ["a", "b", "c"]])
def test_empty_and_tiny_corpora(texts):
    with pytest.warns(RuntimeWarning, match="possible merges"):
        ranks = train_bpe_ranks(texts, 300, progress=False)
    assert ranks == rustbpe_ref.train_ranks(texts, 300)
    assert ranks == {bytes([i]): i for i in range(256)}


# ---------------------------------------------------------------- streaming and threads


def test_streaming_batches_and_threads_do_not_change_counts(corpora, monkeypatch):
    lines = corpora["taylorswift.txt"].splitlines(keepends=True)
    whole = count_pieces(lines, GPT4_SPLIT_PATTERN, num_threads=1)
    monkeypatch.setattr(pretokenize, "BATCH_CHARS", 1000)  # many small batches, many in flight
    assert count_pieces(iter(lines), GPT4_SPLIT_PATTERN, num_threads=2) == whole
    assert count_pieces(lines, GPT4_SPLIT_PATTERN, num_threads=3) == whole


def test_pack_pieces_layout():
    tokens, offsets, counts = pack_pieces({b"hi": 3, b"a": 1})
    assert tokens.dtype == np.int32 and offsets.dtype == np.int64 and counts.dtype == np.int64
    np.testing.assert_array_equal(offsets, [0, 1, 3])  # sorted: b"a" then b"hi"
    np.testing.assert_array_equal(tokens, [97, 104, 105])
    np.testing.assert_array_equal(counts, [1, 3])


def test_progress_bar_reports_to_stderr(capsys, corpora):
    quiet = ranks_quietly(corpora["the-verdict.txt"], 500)
    loud = train_bpe_ranks(corpora["the-verdict.txt"], 500, progress=True)
    assert loud == quiet
    err = capsys.readouterr().err
    assert "pieces" in err and "merges" in err and "244/244" in err


def test_progress_defaults_to_on_only_on_a_terminal(monkeypatch, capsys):
    class Terminal:
        def __init__(self, tty: bool):
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    from minembed.tokenizers import train

    monkeypatch.setattr(train.sys, "stderr", Terminal(True))
    assert train._show_progress(None) and not train._show_progress(False)
    monkeypatch.setattr(train.sys, "stderr", Terminal(False))
    assert not train._show_progress(None) and train._show_progress(True)


# ---------------------------------------------------------------- special tokens and errors


def test_special_tokens_never_take_part_in_merges():
    docs = ["hello world", "the cat sat", "hello cat"] * 30
    corpus = ENDOFTEXT.join(docs)
    ranks = ranks_quietly(corpus, 400, special_tokens=[ENDOFTEXT])
    # the specials are cut out first, so this is rustbpe on the documents themselves
    assert ranks == rustbpe_ref.train_ranks(docs, 400 - 1)
    assert not any(b"<|" in token or b"|>" in token for token in ranks)
    assert len(ranks) < 400  # the special token's id is reserved, not learned


def test_early_stop_warns_and_matches_rustbpe():
    with pytest.warns(RuntimeWarning, match="only 3 possible merges"):
        ranks = train_bpe_ranks("abcd", 1000, progress=False)
    assert ranks == rustbpe_ref.train_ranks("abcd", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exactly enough merges: no warning
        assert len(train_bpe_ranks("abcd", 259, progress=False)) == 259


@pytest.mark.parametrize(
    ("vocab_size", "specials", "match"),
    [
        (255, None, "at least 256"),
        (256, [ENDOFTEXT], "at least 257"),
        (-1, None, "at least 256"),
    ],
)
def test_bad_vocab_size_raises_value_error(vocab_size, specials, match):
    with pytest.raises(ValueError, match=match):
        train_bpe_ranks("hello", vocab_size, special_tokens=specials, progress=False)


@pytest.mark.parametrize(
    ("vocab_size", "match"),
    [
        (300.0, r"must be an integer, got 300.0 \(float\); pass e.g. vocab_size=300"),
        ("300", "must be an integer"),
        (True, "must be an integer"),
        (None, "must be an integer"),
    ],
)
def test_non_integer_vocab_size_raises_type_error(vocab_size, match):
    with pytest.raises(TypeError, match=match):  # as rustbpe raises
        train_bpe_ranks("hello", vocab_size, progress=False)


def test_other_bad_arguments():
    with pytest.raises(TypeError, match=r"special_tokens=\['<\|endoftext\|>'\]"):
        train_bpe_ranks("hi", 300, special_tokens=ENDOFTEXT)
    with pytest.raises(ValueError, match="duplicates"):
        train_bpe_ranks("hi", 300, special_tokens=[ENDOFTEXT, ENDOFTEXT])
    with pytest.raises(TypeError, match="item 1 is bytes"):
        train_bpe_ranks(["ok", b"raw"], 300)
    for not_texts in [b"raw bytes", 42, None]:
        with pytest.raises(TypeError, match="texts must be a str or an iterable of str"):
            train_bpe_ranks(not_texts, 300)
    with pytest.raises(TypeError, match="name must be a str"):
        train_bpe("hi", 300, name=None)
    with pytest.raises(ValueError, match="pat_str is not a valid regex"):
        train_bpe_ranks("hi", 300, pat_str="(")
    with pytest.raises(UnicodeEncodeError, match="surrogate"):  # rustbpe raises UnicodeEncodeError too
        train_bpe_ranks("a\ud800b", 300, progress=False)
    assert len(ranks_quietly("hello", np.int64(300))) == 256 + 4  # NumPy integers are integers


# ---------------------------------------------------------------- the trained Encoding


@pytest.fixture(scope="module")
def trained(corpora):
    text = corpora["taylorswift.txt"]
    enc = train_bpe(text, 1200, special_tokens=[ENDOFTEXT, "<|pad|>"], progress=False)
    return text, enc


def test_train_bpe_returns_an_encoding_with_rustbpes_ranks(trained):
    text, enc = trained
    assert isinstance(enc, minembed.Encoding)
    assert dict(enc.mergeable_ranks) == rustbpe_ref.train_ranks(text, 1200 - 2)
    assert dict(enc.special_tokens) == {ENDOFTEXT: 1198, "<|pad|>": 1199}
    assert enc.n_vocab == 1200 and enc.pat_str == GPT4_SPLIT_PATTERN
    sample = text[:2000] + ENDOFTEXT
    ids = enc.encode(sample, allowed_special="all")
    assert ids[-1] == 1198 and enc.decode(ids) == sample
    assert len(ids) < len(sample.encode("utf-8")) / 2  # the merges do compress the training text


def test_early_stop_encoding_puts_specials_right_after_the_merges():
    with pytest.warns(RuntimeWarning, match="only 3 possible merges"):
        enc = train_bpe("abcd", 1000, special_tokens=[ENDOFTEXT], progress=False)
    assert enc.special_tokens == {ENDOFTEXT: 259} and enc.n_vocab == 260


def test_save_load_round_trip(trained, tmp_path):
    text, enc = trained
    path = tmp_path / "trained.minembed"
    enc.save(path)
    loaded = minembed.load_encoding(path)
    assert dict(loaded.mergeable_ranks) == dict(enc.mergeable_ranks)
    assert dict(loaded.special_tokens) == dict(enc.special_tokens) and loaded.pat_str == enc.pat_str
    assert loaded.encode(text[:5000]) == enc.encode(text[:5000])


def test_tiktoken_export_loads_in_tiktoken_and_encodes_identically(trained, tmp_path, corpora):
    import tiktoken
    import tiktoken.load

    text, enc = trained
    path = tmp_path / "trained.tiktoken"
    dump_tiktoken_bpe(dict(enc.mergeable_ranks), path)
    theirs = tiktoken.Encoding(
        "trained",
        pat_str=enc.pat_str,
        mergeable_ranks=tiktoken.load.load_tiktoken_bpe(str(path)),
        special_tokens=dict(enc.special_tokens),
    )
    assert theirs.n_vocab == enc.n_vocab
    for sample in [text[:20_000], corpora["the-verdict.txt"], "héllo wörld 12345 <|pad|> 😀\r\n\n  x", ""]:
        assert enc.encode(sample, allowed_special="all") == theirs.encode(sample, allowed_special="all")
