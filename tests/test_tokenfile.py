"""Token files: write_tokens / open_tokens round trips and tokenize_files, whose chunked output
must equal tiktoken's (and minembed's) encoding of each whole file."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.data import open_tokens, token_file_info, tokenize_files, write_tokens
from minembed.data.tokenfile import HEADER_SIZE, _document_chunks
from minembed.text.cuts import safe_cuts
from minembed.text.patterns import GPT2_SPLIT_PATTERN
from reference.shared import encodings_dir
from reference.tiktoken_ref import get_encoding as tiktoken_encoding


@pytest.fixture(autouse=True)
def _offline_encodings(monkeypatch):
    monkeypatch.setenv("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))


def minembed_encoding(name):
    os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
    return minembed.get_encoding(name)


def whole_file_tokens(enc, paths):
    """The documented output: per file, encode_ordinary(UTF-8 text without BOM) + [eot]."""
    out = []
    for p in paths:
        out += enc.encode_ordinary(p.read_bytes().decode("utf-8-sig")) + [enc.eot_token]
    return np.array(out, dtype=np.int64)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -------------------------------------------------------------------------- write_tokens / open_tokens


@given(ids=st.lists(st.integers(0, 2**20), max_size=200), extra=st.integers(1, 100_000))
def test_write_open_round_trip(tmp_path_factory, ids, extra):
    path = tmp_path_factory.mktemp("tok") / "ids.tok"
    n_vocab = (max(ids) if ids else 0) + extra
    info = write_tokens(path, ids, encoding="custom", n_vocab=n_vocab)
    tokens = open_tokens(path)
    assert tokens.tolist() == ids
    assert tokens.dtype == (np.dtype("<u2") if n_vocab <= 65536 else np.dtype("<u4")) == info.dtype
    assert not tokens.flags.writeable
    assert token_file_info(path) == info and (info.count, info.encoding, info.n_vocab) == (len(ids), "custom", n_vocab)
    raw = path.read_bytes()
    assert raw[HEADER_SIZE:] == np.asarray(ids, dtype=info.dtype).tobytes()  # raw little-endian after the header


def test_dtype_follows_the_encoding_vocab(tmp_path):
    for name, dtype in [("gpt2", "<u2"), ("cl100k_base", "<u4")]:
        enc = tiktoken_encoding(name)
        info = write_tokens(tmp_path / f"{name}.tok", enc.encode_ordinary("hello world"), encoding=enc)
        assert info.dtype == np.dtype(dtype) and info.encoding == name and info.n_vocab == enc.n_vocab
        assert open_tokens(tmp_path / f"{name}.tok").tolist() == enc.encode_ordinary("hello world")
    # without an encoding the largest id decides
    assert write_tokens(tmp_path / "a.tok", np.array([3, 65535], dtype=np.int64)).dtype == np.dtype("<u2")
    assert write_tokens(tmp_path / "b.tok", np.array([3, 65536], dtype=np.int64)).dtype == np.dtype("<u4")
    empty = write_tokens(tmp_path / "e.tok", [])
    assert empty.count == 0 and open_tokens(tmp_path / "e.tok").shape == (0,)


def test_write_errors_leave_the_old_file_intact(tmp_path):
    path = tmp_path / "t.tok"
    write_tokens(path, [1, 2, 3], n_vocab=10)
    with pytest.raises(ValueError, match=r"holds 10, outside the vocabulary range \[0, 10\)"):
        write_tokens(path, [1, 10], n_vocab=10)
    with pytest.raises(ValueError, match="holds -1"):
        write_tokens(path, np.array([-1, 2]))
    with pytest.raises(TypeError, match="integer token ids"):
        write_tokens(path, np.array([1.5]))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_tokens(tmp_path / "nope" / "t.tok", [1])
    assert open_tokens(path).tolist() == [1, 2, 3]
    assert leftovers(tmp_path) == []


def test_open_rejects_foreign_and_truncated_files(tmp_path):
    (tmp_path / "plain.bin").write_bytes(np.arange(300, dtype=np.uint16).tobytes())
    with pytest.raises(ValueError, match="not a minembed token file"):
        open_tokens(tmp_path / "plain.bin")
    write_tokens(tmp_path / "t.tok", np.arange(100), n_vocab=100)
    with open(tmp_path / "t.tok", "r+b") as f:
        f.truncate(HEADER_SIZE + 150)
    with pytest.raises(ValueError, match="promises 100 tokens"):
        open_tokens(tmp_path / "t.tok")


# ------------------------------------------------------------------------------------- safe cuts

WORDS = [
    "a",
    "Word",
    "don't",
    "it's",
    "I'M",
    "HelloWorld",
    "12345",
    "é",
    "中文",
    "...",
    "/",
    "'",
    '"',
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    " \n",
    "\t",
    "x/",
    ".\n",
    "\u00a0",
    "\u3000",
    "!?",
    "ab12",
]
texts = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=40).map("".join),
    st.text(alphabet=list("aZé中 \n\r\t.,'/-1?") + ["\u2028", "\u00a0"], max_size=60),
)
ENCODINGS = ["gpt2", "cl100k_base", "o200k_base"]


def cut_points(name, text):
    """Every safe cut of text under the split pattern of encoding `name`."""
    cuts = safe_cuts(minembed_encoding(name).pat_str)
    return [m.start() for m in cuts.pattern.finditer(text)]


def cut_everywhere(name, text):
    """text cut at every safe cut (the most chunks tokenize_files could ever make)."""
    cuts = [0] + [c for c in cut_points(name, text) if c > 0] + [len(text)]
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


@pytest.mark.parametrize("name", ENCODINGS)
@given(text=texts)
def test_safe_cuts_do_not_change_tiktoken_tokens(name, text):
    enc = tiktoken_encoding(name)
    chunked = [t for chunk in cut_everywhere(name, text) for t in enc.encode_ordinary(chunk)]
    assert chunked == enc.encode_ordinary(text)


@pytest.mark.parametrize("name", ENCODINGS)
@given(text=texts)
def test_safe_cuts_do_not_change_minembed_tokens(name, text):
    enc = minembed_encoding(name)
    chunked = [t for chunk in cut_everywhere(name, text) for t in enc.encode_ordinary(chunk)]
    assert chunked == enc.encode_ordinary(text)


@pytest.mark.parametrize("name, text, cut", [("gpt2", "x\n\nay", 3), ("o200k_base", "x.\n/y", 3)])
def test_the_cuts_the_rule_excludes_would_change_tokens(name, text, cut):
    """Why the safe cuts of these patterns need a non-space before the newline and a letter after it."""
    enc = tiktoken_encoding(name)
    assert enc.encode_ordinary(text[:cut]) + enc.encode_ordinary(text[cut:]) != enc.encode_ordinary(text)
    assert cut_points(name, text) == []


@given(text=st.text(alphabet=list("ab \n\r.é中\ufeff"), max_size=300), chunk_size=st.integers(1, 40))
def test_chunks_rejoin_to_the_file_and_cut_only_at_safe_points(tmp_path_factory, text, chunk_size):
    path = tmp_path_factory.mktemp("doc") / "doc.txt"
    path.write_bytes(("\ufeff" + text).encode("utf-8"))  # with a BOM, which is dropped
    seen = []
    chunks = list(_document_chunks(path, chunk_size, seen.append))
    assert "".join(chunks) == text
    assert sum(seen) == path.stat().st_size
    position = 0
    for chunk in chunks[:-1]:
        position += len(chunk)
        assert safe_cuts(GPT2_SPLIT_PATTERN).is_cut(text, position)


# --------------------------------------------------------------------------------- tokenize_files


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory, corpora):
    """Small copies of the shared corpora: warpeace keeps its BOM and CRLF line ends."""
    from reference.shared import shared_data_dir

    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for name, size in [("the-verdict.txt", None), ("warpeace.txt", 300_000), ("taylorswift.txt", None)]:
        data = (shared_data_dir() / "corpora" / name).read_bytes()
        if size:
            data = data[:size].decode("utf-8", "ignore").encode("utf-8")
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    (folder / "empty.txt").write_bytes(b"")
    paths.insert(1, folder / "empty.txt")
    return paths


@pytest.mark.parametrize("workers", [1, 2])
def test_tokenize_files_equals_whole_file_encoding_tiktoken(tmp_path, corpus_files, workers):
    enc = tiktoken_encoding("gpt2")
    info = tokenize_files(corpus_files, tmp_path / "out.tok", enc, workers=workers, chunk_size=4096)
    tokens = open_tokens(tmp_path / "out.tok")
    assert np.array_equal(tokens, whole_file_tokens(enc, corpus_files))
    assert (info.count, info.dtype, info.encoding) == (len(tokens), np.dtype("<u2"), "gpt2")
    assert int((tokens == enc.eot_token).sum()) == len(corpus_files)  # one end-of-text per document
    assert leftovers(tmp_path) == []


def test_tokenize_files_with_minembed_encoding_by_name(tmp_path, corpus_files):
    info = tokenize_files(corpus_files, tmp_path / "out.tok", "cl100k_base", chunk_size=10_000)
    expected = whole_file_tokens(tiktoken_encoding("cl100k_base"), corpus_files)
    assert np.array_equal(open_tokens(tmp_path / "out.tok"), expected)
    assert info.dtype == np.dtype("<u4") and info.encoding == "cl100k_base"


@pytest.mark.parametrize("source", ["tiktoken", "minembed"])
def test_special_token_text_in_a_file_is_ordinary_text(tmp_path, source):
    """Both encodings go through encode_to_numpy(disallowed_special=()): "<|endoftext|>" is plain text."""
    enc = tiktoken_encoding("gpt2") if source == "tiktoken" else minembed_encoding("gpt2")
    path = tmp_path / "doc.txt"
    path.write_text("one <|endoftext|> two", encoding="utf-8")
    tokenize_files([path], tmp_path / "out.tok", enc)
    expected = enc.encode_ordinary("one <|endoftext|> two") + [enc.eot_token]
    assert open_tokens(tmp_path / "out.tok").tolist() == expected
    assert expected.count(enc.eot_token) == 1


def test_whole_file_mode_and_progress_bar(tmp_path, corpus_files, capsys):
    enc = minembed_encoding("gpt2")
    tokenize_files(corpus_files[:2], tmp_path / "out.tok", enc, chunk_size=None, progress=True)
    assert np.array_equal(open_tokens(tmp_path / "out.tok"), whole_file_tokens(enc, corpus_files[:2]))
    assert "tokenize out.tok" in capsys.readouterr().err


class FailingEncoding:
    """gpt2, until the n-th chunk: then it raises (an error or a Ctrl-C in the middle of a run)."""

    def __init__(self, after, error):
        self.inner, self.after, self.error, self.calls = tiktoken_encoding("gpt2"), after, error, 0
        self.name, self.n_vocab, self.eot_token = "gpt2", self.inner.n_vocab, self.inner.eot_token

    def encode_ordinary(self, text):
        self.calls += 1
        if self.calls > self.after:
            raise self.error
        return self.inner.encode_ordinary(text)


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_run_leaves_nothing_behind(tmp_path, corpus_files, error, workers):
    out = tmp_path / "out.tok"
    write_tokens(out, [1, 2, 3], n_vocab=50257)  # an earlier result that must survive
    with pytest.raises(type(error)):
        tokenize_files(corpus_files, out, FailingEncoding(5, error), workers=workers, chunk_size=2048)
    assert open_tokens(out).tolist() == [1, 2, 3]
    assert leftovers(tmp_path) == []


def test_bad_input_raises_before_or_without_output(tmp_path, corpus_files):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine text\n" * 100 + b"\xff\xfe broken")
    with pytest.raises(UnicodeDecodeError, match="bad.txt"):
        tokenize_files([corpus_files[0], bad], tmp_path / "out.tok", tiktoken_encoding("gpt2"), chunk_size=64)
    assert not (tmp_path / "out.tok").exists() and leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        tokenize_files([tmp_path / "missing.txt"], tmp_path / "out.tok", "gpt2")
    with pytest.raises(ValueError, match="workers must be an int >= 1, got workers=0"):
        tokenize_files(corpus_files, tmp_path / "out.tok", "gpt2", workers=0)
    with pytest.raises(TypeError, match="encode_ordinary"):
        tokenize_files(corpus_files, tmp_path / "out.tok", object())
