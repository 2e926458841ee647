"""Sharded token files: tokenize many text files on any executor, resume after a crash, read or merge the shards.

    tokenize_shards(inputs, out_dir, "gpt2", executor=client.get_executor())
        out_dir/shard-00000.tok (+ .json sidecar), shard-00001.tok, ..., and last manifest.json
    open_token_shards(out_dir)   -> TokenShards: one read-only token sequence over every shard
    merge_shards(out_dir, path)  -> one token file, byte-identical to tokenize_files(inputs, path, ...)

Each shard is `tokenize_files` run on its group of inputs, so shard k holds, file after file,
`encode_ordinary(text) + [eot]`; concatenating the shards' data gives tokenize_files' data.
"""

from __future__ import annotations

import functools
import hashlib
import numbers
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minembed._files import atomic_write
from minembed.data.shards._runner import (
    MANIFEST_NAME,
    PathLike,
    ShardTask,
    check_executor,
    file_sha256,
    group_inputs,
    plan_tasks,
    prepare_out_dir,
    read_json,
    run_shards,
    write_json_atomic,
)
from minembed.data.tokenfile import (
    DEFAULT_CHUNK_SIZE,
    HEADER_SIZE,
    TokenFileInfo,
    _header_bytes,
    open_tokens,
    token_file_info,
    tokenize_files,
)

MANIFEST_VERSION = 1
_COPY_BLOCK = 1 << 22


@dataclass(frozen=True)
class EncodingRef:
    """How a worker gets the encoding: a registered name, or a file written by Encoding.save.

    Tasks carry this (a few bytes), never the Encoding (megabytes of ranks); each worker
    process loads it once (`load` is cached).
    """

    name: str | None = None
    path: str | None = None
    sha256: str | None = None  # of the file at `path`: a changed file is another encoding

    def load(self):
        return _load_encoding(self)

    def identity(self) -> dict:
        return {"name": self.name, "path": self.path, "sha256": self.sha256}


@functools.lru_cache(maxsize=8)
def _load_encoding(ref: EncodingRef):
    from minembed.tokenizers.formats import load_encoding
    from minembed.tokenizers.registry import get_encoding

    if ref.path is None:
        return get_encoding(ref.name)
    if file_sha256(ref.path) != ref.sha256:
        raise RuntimeError(f"the encoding file {ref.path} changed during the run; restart tokenize_shards")
    return load_encoding(ref.path)


def encoding_ref(encoding, out_dir: Path) -> EncodingRef:
    """A registered name, a path to a saved encoding, or an Encoding (registered: by name; else saved in out_dir)."""
    from minembed.tokenizers.encoding import Encoding
    from minembed.tokenizers.registry import is_registered, list_encoding_names

    if isinstance(encoding, str) and encoding in list_encoding_names():
        return EncodingRef(name=encoding)
    if isinstance(encoding, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(encoding))
        if not os.path.isfile(path):
            raise ValueError(
                f"encoding={encoding!r} is neither a registered encoding ({list_encoding_names()}) nor an encoding "
                "file; pass a name, an Encoding, or the path of a file written by Encoding.save"
            )
        return EncodingRef(path=path, sha256=file_sha256(path))
    if isinstance(encoding, Encoding):
        if is_registered(encoding):
            return EncodingRef(name=encoding.name)
        path = out_dir / "encoding.txt"  # workers load it from here (out_dir must be shared with them)
        encoding.save(path)
        return EncodingRef(path=str(path), sha256=file_sha256(path))
    raise TypeError(
        f"encoding must be a registered name such as 'gpt2', a minembed Encoding or the path of an encoding file, "
        f"got {type(encoding).__name__}; workers load the encoding themselves, so a tiktoken object cannot be used"
    )


def _tokenize_shard(task: ShardTask, out: Path) -> dict:
    ref, chunk_size = task.params
    info = tokenize_files(task.inputs, out, ref.load(), workers=1, progress=False, chunk_size=chunk_size)
    return {"count": info.count, "dtype": info.dtype.str, "encoding": info.encoding, "n_vocab": info.n_vocab}


def _manifest_path(manifest: PathLike) -> Path:
    path = Path(manifest)
    return path / MANIFEST_NAME if path.is_dir() else path


def tokenize_shards(
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    encoding,
    *,
    executor: Executor | None = None,
    files_per_shard: int = 1,
    resume: bool = True,
    progress: bool | None = None,
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
) -> Path:
    """Tokenize text files into one token file per shard of `files_per_shard` consecutive inputs.

    Each task runs `tokenize_files(shard_inputs, shard_file, encoding, workers=1)` on `executor`
    (any concurrent.futures.Executor: threads, processes, dask's `Client.get_executor()`; None
    runs here), writes the shard atomically and then its sidecar. Last, `out_dir/manifest.json`
    lists the shards. With resume=True a rerun keeps every shard whose sidecar still matches
    (inputs' sizes and mtimes, encoding, file size and SHA-256) and redoes the rest. On failure
    the other shards are still finished, no manifest is written, and ShardsFailed tells how many
    are written. Inputs and out_dir must be paths every worker sees (a shared filesystem).
    `encoding`: a registered name, an encoding file path, or an Encoding. Returns the manifest path.
    """
    check_executor(executor)
    groups = group_inputs(inputs, files_per_shard)
    out_dir, manifest_path = prepare_out_dir(out_dir, "shard")
    ref = encoding_ref(encoding, out_dir)
    enc = ref.load()  # fail here, not in every task, if it cannot be loaded
    if getattr(enc, "eot_token", None) is None:
        raise ValueError(f"encoding {enc.name!r} has no <|endoftext|> token to separate documents")
    identity = {"kind": "tokens", "encoding": ref.identity(), "chunk_size": chunk_size}
    tasks = plan_tasks(groups, out_dir, "shard", ".tok", identity, _tokenize_shard, (ref, chunk_size), resume)
    records = run_shards(
        tasks,
        executor,
        progress=progress,
        what=f"tokenize {out_dir.name}",
        rerun_hint="run tokenize_shards again with the same arguments to resume",
    )
    results = [r["result"] for r in records]
    manifest = {
        "version": MANIFEST_VERSION,
        "kind": "tokens",
        "encoding": results[0]["encoding"],
        "n_vocab": results[0]["n_vocab"],
        "dtype": results[0]["dtype"],
        "count": sum(r["count"] for r in results),
        "encoding_ref": ref.identity(),
        "shards": [
            {
                "file": r["file"],
                "count": r["result"]["count"],
                "size": r["size"],
                "sha256": r["sha256"],
                "inputs": r["inputs"],
            }
            for r in records
        ],
    }
    write_json_atomic(manifest_path, manifest)
    return manifest_path


def read_manifest(manifest: PathLike, kind: str) -> tuple[Path, dict]:
    """(folder, manifest) from a manifest path or its folder, checked to be of `kind`."""
    path = _manifest_path(manifest)
    if not path.is_file():
        raise FileNotFoundError(
            f"no manifest at {path}: the sharded run did not finish; run it again with the same arguments to resume"
        )
    data = read_json(path)
    if data.get("version") != MANIFEST_VERSION or data.get("kind") != kind:
        raise ValueError(f"{path} is not a version {MANIFEST_VERSION} manifest of {kind} shards")
    return path.parent, data


class TokenShards:
    """Several token files as one read-only 1-D token sequence, shape (count,), uint16 or uint32.

    Integer indexing, slicing (also across shard boundaries), integer-array indexing and
    `gather_spans` read only what they return from the memmaps; `np.asarray(shards)`
    concatenates everything (only when you ask). SlidingWindowDataset and random_batch take it
    as it is.

    >>> tokens = TokenShards([np.arange(3, dtype=np.uint16), np.arange(10, 14, dtype=np.uint16)])
    >>> len(tokens), tokens[2:5].tolist(), tokens.gather_spans(np.array([1, 4]), 2).tolist()
    (7, [2, 10, 11], [[1, 2], [11, 12]])
    """

    def __init__(self, shards: Iterable[np.ndarray]) -> None:
        self.shards = [np.asarray(s) for s in shards]
        dtypes = {s.dtype for s in self.shards}
        if len(dtypes) > 1:
            raise ValueError(
                f"the shards hold different dtypes {sorted(map(str, dtypes))}; write them with one encoding"
            )
        self.dtype = dtypes.pop() if dtypes else np.dtype("<u2")
        lengths = [len(s) for s in self.shards]
        self.bounds = np.zeros(len(lengths) + 1, dtype=np.int64)  # shard k is tokens[bounds[k]:bounds[k+1]]
        np.cumsum(lengths, out=self.bounds[1:])

    def __len__(self) -> int:
        return int(self.bounds[-1])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    ndim = 1

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            if not -n <= index < n:
                raise IndexError(f"token index {index} is out of range for {n} tokens")
            index = int(index) % n if n else 0
            k = int(np.searchsorted(self.bounds, index, side="right")) - 1
            return self.shards[k][index - self.bounds[k]]
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return self.take(np.arange(start, stop, step))
            return self._range(start, max(start, stop))
        return self.take(index)

    def _range(self, start: int, stop: int) -> np.ndarray:
        """tokens[start:stop]: a view when it lies in one shard, else a copy of just that range."""
        if stop <= start:
            return np.zeros(0, dtype=self.dtype)
        first = int(np.searchsorted(self.bounds, start, side="right")) - 1
        if stop <= self.bounds[first + 1]:
            return self.shards[first][start - self.bounds[first] : stop - self.bounds[first]]
        parts = []
        for k in range(first, len(self.shards)):
            if self.bounds[k] >= stop:
                break
            lo, hi = max(start, self.bounds[k]), min(stop, self.bounds[k + 1])
            parts.append(self.shards[k][lo - self.bounds[k] : hi - self.bounds[k]])
        return np.concatenate(parts)

    def take(self, indices) -> np.ndarray:
        """tokens[indices] for an integer array of any shape (negative indices count from the end)."""
        idx = np.asarray(indices)
        if idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"tokens are indexed by an int, a slice or an integer array, got dtype {idx.dtype}")
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)].flat[0]
            raise IndexError(f"token index {bad} is out of range for {n} tokens")
        flat = np.where(idx < 0, idx + n, idx).ravel().astype(np.int64)
        out = np.empty(flat.shape, dtype=self.dtype)
        owner = np.searchsorted(self.bounds, flat, side="right") - 1  # which shard holds each index
        for k in np.unique(owner).tolist():
            mask = owner == k
            out[mask] = self.shards[k][flat[mask] - self.bounds[k]]
        return out.reshape(idx.shape)

    def gather_spans(self, starts, length: int) -> np.ndarray:
        """(len(starts), length) array: row i is tokens[starts[i]:starts[i] + length].

        The protocol SlidingWindowDataset and random_batch use for token sequences that are not
        one ndarray. A span inside one shard is a slice of it; only spans crossing a boundary
        are gathered token by token.
        """
        starts = np.asarray(starts, dtype=np.int64).ravel()
        out = np.empty((len(starts), length), dtype=self.dtype)
        if not len(starts):
            return out
        if starts.min() < 0 or starts.max() + length > len(self):
            raise IndexError(f"a span of {length} tokens from start {int(starts.max())} runs past {len(self)} tokens")
        first = np.searchsorted(self.bounds, starts, side="right") - 1
        inside = starts + length <= self.bounds[first + 1]
        for k in np.unique(first[inside]).tolist():
            rows = np.flatnonzero(inside & (first == k))
            local = starts[rows] - self.bounds[k]
            view = np.lib.stride_tricks.sliding_window_view(self.shards[k], length)
            out[rows] = view[local]
        crossing = np.flatnonzero(~inside)
        if len(crossing):
            out[crossing] = self.take(starts[crossing, None] + np.arange(length))
        return out

    def __iter__(self) -> Iterator:
        for shard in self.shards:
            yield from shard

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate(self.shards) if self.shards else np.zeros(0, self.dtype)
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"TokenShards({len(self)} tokens in {len(self.shards)} shards, dtype={self.dtype})"


def open_token_shards(manifest: PathLike, *, verify: bool = False) -> TokenShards:
    """The shards a tokenize_shards run listed in its manifest (a path or its folder), as one TokenShards.

    Each shard file's header must agree with the manifest; `verify=True` also checks every
    file's SHA-256 (it reads everything once).
    """
    folder, data = read_manifest(manifest, "tokens")
    shards = []
    for entry in data["shards"]:
        path = folder / entry["file"]
        info = token_file_info(path)
        if info.count != entry["count"] or info.dtype.str != data["dtype"]:
            raise ValueError(
                f"{path} does not match the manifest (count {info.count} vs {entry['count']}); rerun "
                "tokenize_shards to redo it"
            )
        if verify and file_sha256(path) != entry["sha256"]:
            raise ValueError(f"{path} has changed since the manifest was written; rerun tokenize_shards to redo it")
        shards.append(open_tokens(path))
    return TokenShards(shards)


def merge_shards(manifest: PathLike, out_path: PathLike) -> TokenFileInfo:
    """Concatenate the shards into one token file, streaming and atomically.

    The result is byte-identical to `tokenize_files(inputs, out_path, encoding)` on the same
    inputs in the same order. Each shard is checked against the manifest's SHA-256 as it is
    copied; a mismatch leaves no output behind.
    """
    folder, data = read_manifest(manifest, "tokens")
    dtype = np.dtype(data["dtype"])
    with atomic_write(out_path, "wb", fsync=True) as out:
        out.write(_header_bytes(dtype, data["count"], data["encoding"], data["n_vocab"]))
        for entry in data["shards"]:
            path = folder / entry["file"]
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                header = f.read(HEADER_SIZE)
                digest.update(header)
                while block := f.read(_COPY_BLOCK):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != entry["sha256"]:
                raise ValueError(f"{path} has changed since the manifest was written; rerun tokenize_shards to redo it")
    return TokenFileInfo(Path(out_path), dtype, data["count"], data["encoding"], data["n_vocab"])
