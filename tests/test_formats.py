"""Encoding files: .tiktoken, GPT-2's encoder.json + vocab.bpe, minembed's own format, export to tiktoken."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import minembed
from minembed.tokenizers import formats
from minembed.tokenizers.registry import SPECS
from reference.tiktoken_ref import get_encoding as tiktoken_encoding
from reference.tiktoken_ref import offline_cache_dir


@pytest.mark.parametrize("name", ["r50k_base", "cl100k_base", "o200k_base"])
def test_load_tiktoken_bpe_matches_tiktoken(name, shared_encodings):
    ranks = minembed.load_tiktoken_bpe(shared_encodings / f"{name}.tiktoken")
    assert ranks == tiktoken_encoding(name)._mergeable_ranks


def test_gpt2_files_match_tiktoken(shared_encodings):
    ranks, specials = formats.load_gpt2_bpe(shared_encodings / "gpt2/encoder.json", shared_encodings / "gpt2/vocab.bpe")
    theirs = tiktoken_encoding("gpt2")
    assert ranks == theirs._mergeable_ranks
    assert specials == theirs._special_tokens
    # The stand-ins are gone: the space is a real space.
    assert ranks[b" the"] == theirs.encode_single_token(" the")


def test_gpt2_stand_ins_by_hand():
    stand_in = formats.gpt2_byte_stand_ins()
    assert stand_in[ord("!")] == "!" and stand_in[ord("a")] == "a"
    assert stand_in[0x20] == "Ġ" and stand_in[0x0A] == "Ċ" and stand_in[0x00] == "Ā"
    assert len(set(stand_in.values())) == 256
    assert sum(ord(c) >= 256 for c in stand_in.values()) == 68


def test_tiktoken_loader_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.tiktoken"
    path.write_bytes(b"IQ== 0\nIg== 1\n\nbm90IGJhc2U2NA!! 2\n")
    with pytest.raises(ValueError, match=r"bad\.tiktoken, line 4"):
        minembed.load_tiktoken_bpe(path)
    path.write_bytes(b"IQ== 0\nIg== zero\n")
    with pytest.raises(ValueError, match=r"line 2"):
        minembed.load_tiktoken_bpe(path)
    path.write_bytes(b"IQ== 0\nIg== 0\n")
    with pytest.raises(ValueError, match=r"line 2: rank 0 is given to both"):
        minembed.load_tiktoken_bpe(path)
    path.write_bytes(b"IQ== 0\nIQ== 1\n")
    with pytest.raises(ValueError, match=r"line 2: token b'!' appears twice"):
        minembed.load_tiktoken_bpe(path)
    path.write_bytes(b"IQ== 0 extra\n")
    with pytest.raises(ValueError, match=r"line 1: expected"):
        minembed.load_tiktoken_bpe(path)


def test_gpt2_loader_errors_name_file_and_line(tmp_path, shared_encodings):
    encoder = shared_encodings / "gpt2/encoder.json"
    vocab = tmp_path / "vocab.bpe"
    vocab.write_text("#version: 0.2\nĠ t\nĠt he\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.bpe, line 3: b'he' is merged before"):
        formats.load_gpt2_bpe(encoder, vocab)
    vocab.write_text("#version: 0.2\nĠ t\n\u4e2d x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.bpe, line 3: '中'.*not one of GPT-2's byte stand-ins"):
        formats.load_gpt2_bpe(encoder, vocab)
    vocab.write_text("#version: 0.2\nĠt\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: expected a merge"):
        formats.load_gpt2_bpe(encoder, vocab)
    # Valid merges that disagree with encoder.json.
    vocab.write_text("#version: 0.2\nĠ t\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"encoder\.json"):
        formats.load_gpt2_bpe(encoder, vocab)
    bad_json = tmp_path / "encoder.json"
    bad_json.write_text('{"a": 0,\n "b": }', encoding="utf-8")
    with pytest.raises(ValueError, match=r"encoder\.json, line 2"):
        formats.load_gpt2_bpe(bad_json, shared_encodings / "gpt2/vocab.bpe")


@given(st.binary(min_size=1, max_size=40))
def test_token_escape_round_trip(token):
    text = formats.escape_token(token)
    assert "\n" not in text and " " not in text and "\r" not in text
    assert formats.unescape_token(text) == token


def test_token_escape_by_hand():
    assert formats.escape_token(b" caf\xc3\xa9\n") == "\\x20café\\x0a"
    assert formats.escape_token(b"a\\b") == "a\\\\b"
    assert formats.escape_token(b"\xe4\xb8") == "\\xe4\\xb8"  # half a character stays escaped
    with pytest.raises(ValueError, match="lone backslash"):
        formats.unescape_token("a\\q")


def small_trained_like_encoding() -> minembed.Encoding:
    """A custom encoding of the kind the BPE trainer makes: 256 bytes plus the first gpt2 merges."""
    gpt2 = minembed.get_encoding("gpt2")
    ranks = {t: r for t, r in gpt2.mergeable_ranks.items() if r < 3000}
    return minembed.Encoding(
        "small",
        pat_str=SPECS["cl100k_base"].pat_str,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 3000, "<|pad|>": 3001},
    )


def test_save_and_load_round_trip(tmp_path, corpora):
    enc = small_trained_like_encoding()
    path = tmp_path / "small.minembed"
    enc.save(path)
    first_lines = path.read_text(encoding="utf-8").splitlines()[:8]
    assert first_lines[0] == "# minembed encoding, format version 1"
    assert first_lines[1] == 'name "small"'
    assert 'special 3000 "<|endoftext|>"' in first_lines
    loaded = minembed.load_encoding(path)
    assert loaded.name == enc.name and loaded.pat_str == enc.pat_str
    assert dict(loaded.mergeable_ranks) == dict(enc.mergeable_ranks)
    assert dict(loaded.special_tokens) == dict(enc.special_tokens)
    text = corpora["taylorswift.txt"][:20_000]
    assert loaded.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


def test_save_and_load_public_encoding(tmp_path):
    enc = minembed.get_encoding("cl100k_base")
    enc.save(tmp_path / "cl100k.minembed")
    loaded = minembed.load_encoding(tmp_path / "cl100k.minembed")
    assert dict(loaded.mergeable_ranks) == dict(enc.mergeable_ranks)
    assert dict(loaded.special_tokens) == dict(enc.special_tokens)
    assert loaded.n_vocab == enc.n_vocab and loaded.pat_str == enc.pat_str


def test_load_encoding_errors(tmp_path):
    enc = small_trained_like_encoding()
    good = tmp_path / "good.minembed"
    enc.save(good)
    lines = good.read_text(encoding="utf-8").split("\n")

    def write_and_load(new_lines):
        bad = tmp_path / "bad.minembed"
        bad.write_text("\n".join(new_lines), encoding="utf-8")
        return lambda: minembed.load_encoding(bad)

    with pytest.raises(ValueError, match=r"line 1: format version '2' is not supported"):
        write_and_load([lines[0].replace("version 1", "version 2")] + lines[1:])()
    with pytest.raises(ValueError, match=r"line 1: not a minembed encoding"):
        write_and_load(["hello"] + lines[1:])()
    broken = list(lines)
    broken[20] = "19 \\"
    with pytest.raises(ValueError, match=r"bad\.minembed, line 21: a lone backslash"):
        write_and_load(broken)()
    broken = list(lines)
    broken[20] = "nineteen x"
    with pytest.raises(ValueError, match=r"line 21: expected 'rank token'"):
        write_and_load(broken)()
    with pytest.raises(ValueError, match=r"exactly N token lines"):
        write_and_load(lines[:-5])()


def test_save_leaves_nothing_behind_on_error(tmp_path):
    enc = small_trained_like_encoding()
    missing_dir = tmp_path / "no" / "such" / "dir" / "x.minembed"
    with pytest.raises(OSError):
        enc.save(missing_dir)
    assert list(tmp_path.iterdir()) == []


def test_exported_ranks_load_in_tiktoken(tmp_path, corpora):
    """tiktoken itself can use a minembed encoding: export the ranks, build a tiktoken.Encoding."""
    offline_cache_dir()
    import tiktoken
    import tiktoken.load

    enc = small_trained_like_encoding()
    path = tmp_path / "small.tiktoken"
    formats.dump_tiktoken_bpe(dict(enc.mergeable_ranks), path)
    ranks = tiktoken.load.load_tiktoken_bpe(str(path))
    assert ranks == dict(enc.mergeable_ranks)
    theirs = tiktoken.Encoding(
        "small", pat_str=enc.pat_str, mergeable_ranks=ranks, special_tokens=dict(enc.special_tokens)
    )
    for text in [corpora["the-verdict.txt"], "hello <|endoftext|> <|pad|> wörld 123456"]:
        assert enc.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert minembed.load_tiktoken_bpe(path) == ranks


def test_saved_file_is_readable_text(tmp_path):
    enc = small_trained_like_encoding()
    path = tmp_path / "small.minembed"
    enc.save(path)
    body = path.read_text(encoding="utf-8").split("\n")
    assert json.loads(body[2].partition(" ")[2]) == enc.pat_str
    # " the" is a token in gpt2's first merges: readable as \x20the.
    rank = enc.encode_single_token(" the")
    assert f"{rank} \\x20the" in body
