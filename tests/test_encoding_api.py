"""The Encoding API around the ids: errors, decoding helpers, pickling, threads, the registry."""

from __future__ import annotations

import io
import pickle
import threading
import urllib.error

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.tokenizers import encoding as encoding_module
from minembed.tokenizers import registry
from reference.shared import encodings_dir
from reference.tiktoken_ref import get_encoding as tiktoken_encoding

NAMES = ["gpt2", "r50k_base", "cl100k_base", "o200k_base"]


@pytest.fixture(scope="module")
def gpt2():
    return minembed.get_encoding("gpt2")


@pytest.fixture(scope="module")
def cl100k():
    return minembed.get_encoding("cl100k_base")


def tiny_encoding(**overrides) -> minembed.Encoding:
    """All 256 bytes (ids 0..255 in byte order), 'ab' = 256, 'abc' = 257 and one special token."""
    ranks = {bytes([b]): b for b in range(256)}
    ranks[b"ab"] = 256
    ranks[b"abc"] = 257
    kwargs = dict(pat_str=r"\w+|\s+|[^\w\s]+", mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 258})
    kwargs.update(overrides)
    return minembed.Encoding("tiny", **kwargs)


# ------------------------------------------------------------------ encode


def test_public_names():
    assert minembed.list_encoding_names() == NAMES
    assert isinstance(minembed.get_encoding("gpt2"), minembed.Encoding)
    assert minembed.get_encoding("gpt2") is minembed.get_encoding("gpt2")
    assert repr(minembed.get_encoding("gpt2")) == "<Encoding 'gpt2'>"


def test_disallowed_special_error_says_what_to_do(gpt2):
    with pytest.raises(ValueError) as info:
        gpt2.encode("hi <|endoftext|> there")
    message = str(info.value)
    assert "'<|endoftext|>'" in message
    assert "allowed_special" in message and "disallowed_special=()" in message
    # Any string may be disallowed, not only special tokens (as in tiktoken).
    with pytest.raises(ValueError, match="'world'"):
        gpt2.encode("hello world", disallowed_special={"world"})
    # Partial special-token text is ordinary text.
    assert gpt2.encode("<|endoftext|") == gpt2.encode_ordinary("<|endoftext|")


def test_allowed_and_ordinary_specials(gpt2):
    text = "hi <|endoftext|>"
    assert gpt2.encode(text, allowed_special={"<|endoftext|>"})[-1] == gpt2.eot_token
    assert gpt2.encode(text, allowed_special="all") == gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert gpt2.encode(text, disallowed_special=()) == gpt2.encode_ordinary(text)
    assert gpt2.eot_token not in gpt2.encode_ordinary(text)
    # A list is accepted too (tiktoken needs a set); a bare string is a mistake worth naming.
    assert gpt2.encode(text, allowed_special=["<|endoftext|>"]) == gpt2.encode(text, allowed_special="all")
    with pytest.raises(TypeError, match="allowed_special"):
        gpt2.encode(text, allowed_special="<|endoftext|>")
    with pytest.raises(TypeError, match="disallowed_special"):
        gpt2.encode(text, disallowed_special=5)


def test_text_type_errors(gpt2):
    for method in (gpt2.encode, gpt2.encode_ordinary, gpt2.encode_to_numpy):
        with pytest.raises(TypeError, match="encode_bytes"):
            method(b"bytes")
        with pytest.raises(TypeError, match="text must be a str"):
            method(None)
    with pytest.raises(TypeError, match="encode_bytes"):
        gpt2.encode_bytes("text")


def test_encode_to_numpy(cl100k):
    text = "hello world <|endoftext|>"
    ids = cl100k.encode_to_numpy(text, allowed_special="all")
    assert ids.dtype == np.uint32 and ids.shape == (len(cl100k.encode(text, allowed_special="all")),)
    assert ids.tolist() == tiktoken_encoding("cl100k_base").encode_to_numpy(text, allowed_special="all").tolist()
    assert not ids.flags.writeable
    with pytest.raises(ValueError):
        cl100k.encode_to_numpy(text)
    assert cl100k.encode_to_numpy("").shape == (0,)


def test_encode_to_numpy_owns_exactly_its_ids(gpt2):
    """The kernel writes into a per-thread buffer (4 bytes per text byte) that later calls reuse:
    each result is its own exact-size copy, unchanged by the next call."""
    first_text, second_text = "The quick brown fox. " * 300, "jumps over the lazy dog! " * 500
    first = gpt2.encode_to_numpy(first_text)
    second = gpt2.encode_to_numpy(second_text)
    assert first.tolist() == gpt2.encode_ordinary(first_text)
    assert second.tolist() == gpt2.encode_ordinary(second_text)
    for ids in (first, second):
        owner = ids if ids.base is None else ids.base
        assert np.asarray(owner).nbytes == ids.nbytes  # not a view into a text-sized buffer
    assert not np.shares_memory(first, second)


def test_surrogates_are_replaced(cl100k):
    theirs = tiktoken_encoding("cl100k_base")
    for text in ["\ud83d\udc4d", "\ud83d", "a\udc00b<|endoftext|>"]:
        assert cl100k.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
        assert cl100k.encode_batch([text], allowed_special="all") == [theirs.encode(text, allowed_special="all")]
        # Documented difference: tiktoken's encode_to_numpy raises UnicodeEncodeError here.
        assert cl100k.encode_to_numpy(text, allowed_special="all").tolist() == cl100k.encode(
            text, allowed_special="all"
        )
    assert cl100k.decode(cl100k.encode("\ud83d")) == "\ufffd"


def test_encode_single_token(cl100k):
    theirs = tiktoken_encoding("cl100k_base")
    for token in ["hello", b" world", "<|endoftext|>", "<|fim_middle|>", b"\xff"]:
        assert cl100k.encode_single_token(token) == theirs.encode_single_token(token)
    with pytest.raises(KeyError):
        cl100k.encode_single_token("hello world")
    with pytest.raises(TypeError):
        cl100k.encode_single_token(42)


def test_batches_keep_order(gpt2):
    texts = ["a", "", "hello <|endoftext|> world", "x" * 100, "😀"]
    theirs = tiktoken_encoding("gpt2")
    assert gpt2.encode_batch(texts, allowed_special="all") == theirs.encode_batch(texts, allowed_special="all")
    assert gpt2.encode_ordinary_batch(texts, num_threads=2) == theirs.encode_ordinary_batch(texts)
    with pytest.raises(ValueError):
        gpt2.encode_batch(texts)  # the disallowed special token in the third text propagates
    with pytest.raises(ValueError, match="num_threads"):
        gpt2.encode_ordinary_batch(texts, num_threads=0)
    batch = gpt2.encode_ordinary_batch(texts)
    assert gpt2.decode_batch(batch) == theirs.decode_batch(batch)
    assert gpt2.decode_bytes_batch(batch) == theirs.decode_bytes_batch(batch)


# ------------------------------------------------------------------ decode


def test_decode_errors(gpt2):
    with pytest.raises(KeyError, match="50257"):
        gpt2.decode([31373, 50257])
    with pytest.raises(KeyError, match="-1"):
        gpt2.decode_bytes([-1])
    with pytest.raises(TypeError, match="integers"):
        gpt2.decode([1.0])
    with pytest.raises(TypeError, match="dtype"):
        gpt2.decode(np.array([1.0, 2.0]))
    with pytest.raises(KeyError, match="50257"):
        gpt2.decode_single_token_bytes(50257)
    # Gaps in the id space are not tokens (cl100k has none at 100256).
    with pytest.raises(KeyError, match="100256"):
        minembed.get_encoding("cl100k_base").decode([100256])


def test_decode_accepts_lists_tuples_and_arrays(gpt2):
    ids = gpt2.encode("hello world")
    expected = "hello world"
    for form in (
        ids,
        tuple(ids),
        np.array(ids, dtype=np.uint32),
        np.array(ids, dtype=np.int64),
        [np.int64(i) for i in ids],
    ):
        assert gpt2.decode(form) == expected
    assert gpt2.decode_tokens_bytes(ids) == [b"hello", b" world"]
    assert gpt2.decode_single_token_bytes(gpt2.eot_token) == b"<|endoftext|>"


def test_decode_error_modes(cl100k):
    broken = [9468, 239]  # the first two of the three tokens of a thumbs-up emoji
    assert cl100k.decode(broken) == "\ufffd"
    assert cl100k.decode(broken, errors="ignore") == ""
    with pytest.raises(UnicodeDecodeError):
        cl100k.decode(broken, errors="strict")


def test_decode_with_offsets_by_hand(cl100k):
    text, offsets = cl100k.decode_with_offsets(cl100k.encode("a👍b"))
    assert text == "a👍b"
    assert offsets == [0, 1, 1, 1, 2]


@given(st.text(max_size=60))
def test_decode_with_offsets_matches_tiktoken(text):
    for name in ("cl100k_base", "o200k_base"):
        ours, theirs = minembed.get_encoding(name), tiktoken_encoding(name)
        ids = ours.encode(text, disallowed_special=())
        try:
            expected = theirs.decode_with_offsets(ids)
        except UnicodeDecodeError:
            with pytest.raises(UnicodeDecodeError):
                ours.decode_with_offsets(ids)
            continue
        assert ours.decode_with_offsets(ids) == expected


@given(st.text())
def test_round_trip_text(text):
    ours = minembed.get_encoding("o200k_base")
    clean = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
    assert ours.decode(ours.encode(clean, allowed_special="all")) == clean


@given(st.binary(max_size=300))
def test_round_trip_bytes(data):
    for name in NAMES:
        ours = minembed.get_encoding(name)
        assert ours.decode_bytes(ours.encode_bytes(data)) == data


def test_single_token_round_trip(gpt2):
    for token in range(0, gpt2.n_vocab, 97):
        assert gpt2.encode_single_token(gpt2.decode_single_token_bytes(token)) == token


# ------------------------------------------------------------------ vocabulary, construction


def test_vocabulary_properties(cl100k):
    assert cl100k.n_vocab == cl100k.max_token_value + 1 == 100277
    assert cl100k.is_special_token(100257) and not cl100k.is_special_token(100256)
    assert cl100k.special_tokens_set == frozenset(cl100k.special_tokens)
    with pytest.raises(TypeError):
        cl100k.mergeable_ranks[b"new"] = 1  # read-only view: the merge table could not follow
    tiny = tiny_encoding(special_tokens={})
    with pytest.raises(KeyError, match="endoftext"):
        _ = tiny.eot_token


def test_custom_encoding_by_hand():
    tiny = tiny_encoding()
    assert tiny.encode("abc abd") == [257, 32, 256, 100]
    assert tiny.encode("ab<|endoftext|>", allowed_special="all") == [256, 258]
    assert tiny.n_vocab == 259


def test_constructor_errors():
    ranks = {bytes([b]): b for b in range(256)}
    with pytest.raises(ValueError, match="rank 5"):
        tiny_encoding(mergeable_ranks={**ranks, b"ab": 5})
    with pytest.raises(ValueError, match="explicit_n_vocab"):
        tiny_encoding(explicit_n_vocab=10)
    assert tiny_encoding(explicit_n_vocab=259).n_vocab == 259
    with pytest.raises(ValueError, match="pat_str"):
        tiny_encoding(pat_str="(unclosed")
    with pytest.raises(TypeError, match="bytes"):
        tiny_encoding(mergeable_ranks={"a": 0})
    with pytest.raises(ValueError, match="special_tokens"):
        tiny_encoding(special_tokens={"<|x|>": -1})
    with pytest.raises(TypeError, match="mergeable_ranks"):
        tiny_encoding(mergeable_ranks=[(b"a", 0)])


def test_missing_byte_raises_at_encode():
    ranks = {b"a": 0, b"b": 1, b"ab": 2}
    enc = minembed.Encoding("ab-only", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={})
    assert enc.encode("abab") == [2, 2]
    with pytest.raises(ValueError, match="0x7a"):
        enc.encode("abz")


def test_piece_cache_is_bounded_and_harmless(monkeypatch):
    monkeypatch.setattr(encoding_module, "_CACHE_ENTRIES", 50)
    tiny = tiny_encoding()
    fresh = tiny_encoding()
    words = [f"w{i}abc{i % 7}" for i in range(400)]
    text = " ".join(words)
    first = tiny.encode(text)
    assert len(tiny._piece_cache) <= 50
    assert tiny.encode(text) == first
    assert [fresh.encode(w) for w in words] == [tiny.encode(w) for w in words]


# ------------------------------------------------------------------ pickle and threads


def test_pickle_registered_by_name(gpt2):
    blob = pickle.dumps(gpt2)
    assert len(blob) < 200  # the name, not the ranks
    assert pickle.loads(blob) is gpt2


def test_pickle_custom_by_value():
    tiny = tiny_encoding()
    clone = pickle.loads(pickle.dumps(tiny))
    assert clone is not tiny and clone.name == "tiny"
    assert clone.encode("abcab <|endoftext|>", allowed_special="all") == tiny.encode(
        "abcab <|endoftext|>", allowed_special="all"
    )
    assert dict(clone.mergeable_ranks) == dict(tiny.mergeable_ranks)


def test_shared_between_threads(corpora):
    enc = minembed.get_encoding("cl100k_base")
    lines = corpora["taylorswift.txt"].splitlines()[:400]
    expected = [tiktoken_encoding("cl100k_base").encode_ordinary(line) for line in lines]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        enc._piece_cache.clear()  # make the threads race on filling and clearing the cache
        results[k] = [enc.encode_ordinary(line) for line in lines]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


# ------------------------------------------------------------------ registry


def test_unknown_encoding():
    with pytest.raises(ValueError, match="nope") as info:
        minembed.get_encoding("nope")
    assert "cl100k_base" in str(info.value)


@pytest.fixture
def empty_dirs(tmp_path, monkeypatch):
    """No encoding files anywhere: an empty MINEMBED_ENCODINGS_DIR and an empty cache."""
    monkeypatch.setenv("MINEMBED_ENCODINGS_DIR", str(tmp_path / "encodings"))
    monkeypatch.setenv("MINEMBED_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "encodings").mkdir()
    return tmp_path


def test_offline_error_says_how_to_supply_files(empty_dirs, monkeypatch):
    monkeypatch.setenv("MINEMBED_OFFLINE", "1")
    with pytest.raises(FileNotFoundError) as info:
        registry.find_encoding_file("cl100k_base.tiktoken")
    message = str(info.value)
    assert "MINEMBED_ENCODINGS_DIR" in message and "MINEMBED_OFFLINE" in message
    assert "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken" in message
    assert str(empty_dirs / "cache" / "encodings" / "cl100k_base.tiktoken") in message


def test_failed_download_is_reported(empty_dirs, monkeypatch):
    monkeypatch.setenv("MINEMBED_OFFLINE", "0")

    def no_network(url, timeout):
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(registry, "_urlopen", no_network)
    with pytest.raises(FileNotFoundError, match="no network here"):
        registry.find_encoding_file("r50k_base.tiktoken")
    assert not (empty_dirs / "cache" / "encodings" / "r50k_base.tiktoken").exists()


def test_download_is_verified_and_cached(empty_dirs, monkeypatch):
    monkeypatch.setenv("MINEMBED_OFFLINE", "0")
    real = (encodings_dir() / "r50k_base.tiktoken").read_bytes()
    served = {"data": real[:-10] + b"corrupted!"}
    urls = []

    def fake_open(url, timeout):
        urls.append(url)
        return io.BytesIO(served["data"])

    monkeypatch.setattr(registry, "_urlopen", fake_open)
    with pytest.raises(FileNotFoundError, match="SHA-256"):
        registry.find_encoding_file("r50k_base.tiktoken")
    cached = empty_dirs / "cache" / "encodings" / "r50k_base.tiktoken"
    assert not cached.exists()  # a bad download leaves nothing behind
    served["data"] = real
    assert registry.find_encoding_file("r50k_base.tiktoken") == cached
    assert cached.read_bytes() == real
    assert urls == [registry.FILES["r50k_base.tiktoken"][0]] * 2
    # Now it is served from the cache, without opening any URL.
    monkeypatch.setattr(registry, "_urlopen", None)
    assert registry.find_encoding_file("r50k_base.tiktoken") == cached


def test_corrupt_local_file_is_rejected(empty_dirs):
    (empty_dirs / "encodings" / "r50k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")
    with pytest.raises(ValueError, match="SHA-256"):
        registry.find_encoding_file("r50k_base.tiktoken")
