"""`get_encoding(name)` for OpenAI's public encodings, with offline use as the normal case.

Each file an encoding needs is looked for, in order:
1. `$MINEMBED_ENCODINGS_DIR/<file>` (laid out like `../shared/data/encodings`:
   `gpt2/encoder.json`, `gpt2/vocab.bpe`, `r50k_base.tiktoken`, ...);
2. minembed's cache: `$MINEMBED_CACHE_DIR`, else `$XDG_CACHE_HOME/minembed`, else
   `~/.cache/minembed`, under `encodings/<file>`;
3. a download from OpenAI's public URL into that cache, unless MINEMBED_OFFLINE=1.
Every file is checked against its known SHA-256 (the hashes tiktoken checks) before use.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from minembed._files import atomic_write
from minembed.text import patterns
from minembed.tokenizers.cache import cache_dir
from minembed.tokenizers.encoding import Encoding
from minembed.tokenizers.formats import load_gpt2_bpe, load_tiktoken_bpe

_BLOB = "https://openaipublic.blob.core.windows.net/"
# file (relative to an encodings directory) -> (official URL, SHA-256)
FILES = {
    "gpt2/encoder.json": (
        _BLOB + "gpt-2/encodings/main/encoder.json",
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    ),
    "gpt2/vocab.bpe": (
        _BLOB + "gpt-2/encodings/main/vocab.bpe",
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    ),
    "r50k_base.tiktoken": (
        _BLOB + "encodings/r50k_base.tiktoken",
        "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    ),
    "cl100k_base.tiktoken": (
        _BLOB + "encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base.tiktoken": (
        _BLOB + "encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
_DOWNLOAD_TIMEOUT_S = 20


@dataclass(frozen=True)
class EncodingSpec:
    """What defines a public encoding besides its ranks: files, split pattern, special tokens."""

    files: tuple[str, ...]
    pat_str: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    n_vocab: int | None = None


SPECS = {
    "gpt2": EncodingSpec(
        ("gpt2/encoder.json", "gpt2/vocab.bpe"), patterns.GPT2_SPLIT_PATTERN, {patterns.ENDOFTEXT: 50256}, 50257
    ),
    "r50k_base": EncodingSpec(("r50k_base.tiktoken",), patterns.GPT2_SPLIT_PATTERN, {patterns.ENDOFTEXT: 50256}, 50257),
    "cl100k_base": EncodingSpec(
        ("cl100k_base.tiktoken",),
        patterns.CL100K_SPLIT_PATTERN,
        {
            patterns.ENDOFTEXT: 100257,
            patterns.FIM_PREFIX: 100258,
            patterns.FIM_MIDDLE: 100259,
            patterns.FIM_SUFFIX: 100260,
            patterns.ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": EncodingSpec(
        ("o200k_base.tiktoken",),
        patterns.O200K_SPLIT_PATTERN,
        {patterns.ENDOFTEXT: 199999, patterns.ENDOFPROMPT: 200018},
    ),
}

_loaded: dict[str, Encoding] = {}
_lock = threading.Lock()
# The function that opens URLs; tests replace it to check the download path without a network.
_urlopen = urllib.request.urlopen


def list_encoding_names() -> list[str]:
    """The names `get_encoding` accepts."""
    return list(SPECS)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, relpath: str) -> Path:
    expected = FILES[relpath][1]
    got = _sha256(path)
    if got != expected:
        raise ValueError(
            f"{path} has SHA-256 {got}, but {relpath} must have {expected}; the file is corrupt or is "
            "another version: replace it with the official file"
        )
    return path


def _download(relpath: str, target: Path) -> None:
    """Fetch the official file into target, atomically and only if its SHA-256 is right."""
    url, expected = FILES[relpath]
    with _urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        data = response.read()
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise ValueError(f"the download of {url} has SHA-256 {got}, expected {expected}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, "wb") as f:
        f.write(data)


def find_encoding_file(relpath: str) -> Path:
    """The local path of one encoding file, downloading it into the cache if need be."""
    if relpath not in FILES:
        raise KeyError(f"unknown encoding file {relpath!r}; known: {sorted(FILES)}")
    looked = []
    env_dir = os.environ.get("MINEMBED_ENCODINGS_DIR")
    if env_dir:
        candidate = Path(env_dir) / relpath
        if candidate.is_file():
            return _verified(candidate, relpath)
        looked.append(f"{candidate} (from MINEMBED_ENCODINGS_DIR)")
    else:
        looked.append("MINEMBED_ENCODINGS_DIR (not set)")
    cached = cache_dir() / "encodings" / relpath
    if cached.is_file():
        return _verified(cached, relpath)
    looked.append(f"{cached} (minembed's cache)")
    url = FILES[relpath][0]
    if os.environ.get("MINEMBED_OFFLINE", "") not in ("", "0"):
        failure = "downloads are disabled by MINEMBED_OFFLINE"
    else:
        try:
            _download(relpath, cached)
            return cached
        except Exception as e:  # any network, disk or hash problem: report it with the fix below
            failure = f"downloading {url} failed: {type(e).__name__}: {e}"
    raise FileNotFoundError(
        f"cannot find the encoding file {relpath}.\nLooked in: "
        + "; ".join(looked)
        + f".\n{failure[0].upper()}{failure[1:]}.\n"
        f"To work offline, download {url} on a machine with network access (SHA-256 {FILES[relpath][1]}) and "
        f"either put it at {cached}, or set MINEMBED_ENCODINGS_DIR to a directory that holds {relpath}."
    )


def _load(name: str) -> Encoding:
    spec = SPECS[name]
    paths = [find_encoding_file(rel) for rel in spec.files]
    if len(paths) == 2:
        ranks, _ = load_gpt2_bpe(paths[0], paths[1])
    else:
        ranks = load_tiktoken_bpe(paths[0])
    return Encoding(
        name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=dict(spec.special_tokens),
        explicit_n_vocab=spec.n_vocab,
    )


def get_encoding(name: str) -> Encoding:
    """The public encoding `name` (one of `list_encoding_names()`), loaded once per process.

    >>> minembed.get_encoding("cl100k_base").encode("hello world")
    [15339, 1917]
    """
    enc = _loaded.get(name)
    if enc is not None:
        return enc
    if name not in SPECS:
        raise ValueError(f"Unknown encoding {name!r}; known encodings: {list_encoding_names()}")
    with _lock:
        if name not in _loaded:
            _loaded[name] = _load(name)
        return _loaded[name]


def is_registered(enc: Encoding) -> bool:
    """Whether enc is the instance `get_encoding(enc.name)` returns (so it pickles by name)."""
    return _loaded.get(enc.name) is enc


def as_encoding(encoding, method: str = "encode"):
    """An encoding name -> get_encoding(name); an object with `method` (e.g. a tiktoken or
    minembed Encoding, a SimpleTokenizer) passes through; anything else raises TypeError."""
    if isinstance(encoding, str):
        return get_encoding(encoding)
    if not hasattr(encoding, method):
        raise TypeError(
            f"encoding must be an encoding name such as 'gpt2' or an object with a {method} method, "
            f"got {type(encoding).__name__}"
        )
    return encoding
