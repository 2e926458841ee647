"""Token files: token ids on disk as raw little-endian integers behind a small text header.

Layout (one file, so that replacing it is a single atomic rename):

    bytes 0..255    b"MINEMBED-TOKENS\\n" then a JSON object padded with spaces and ending in "\\n":
                    {"version": 1, "dtype": "<u2", "count": 338025, "encoding": "gpt2", "n_vocab": 50257}
    bytes 256..     count token ids, dtype "<u2" (uint16) when every id of the vocab fits, else "<u4"

uint16 halves the file and the page cache for GPT-2's 50,257 ids (as nanoGPT's train.bin does);
uint32 covers cl100k/o200k. `head -c 256 file` shows the header, and other tools can map the data
with `np.memmap(path, dtype="<u2", mode="r", offset=256)`.

>>> enc = minembed.get_encoding("gpt2")
>>> write_tokens("train.tok", [15496, 11, 995], encoding=enc).dtype
dtype('uint16')
>>> open_tokens("train.tok")
memmap([15496,    11,   995], dtype=uint16)
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minembed._files import atomic_write
from minembed.data.windows import as_token_array
from minembed.text.cuts import SafeCuts, safe_cuts
from minembed.text.patterns import GPT2_SPLIT_PATTERN
from minembed.tokenizers.registry import as_encoding

MAGIC = b"MINEMBED-TOKENS\n"
HEADER_SIZE = 256  # a multiple of 4 and 8, so the data stays aligned for uint32 views
FORMAT_VERSION = 1
_WRITE_BLOCK = 1 << 20  # tokens converted and written per step: bounds the extra memory of write_tokens

PathLike = str | os.PathLike


@dataclass(frozen=True)
class TokenFileInfo:
    """What a token file's header records."""

    path: Path
    dtype: np.dtype
    count: int
    encoding: str | None
    n_vocab: int


def dtype_for_vocab(n_vocab: int) -> np.dtype:
    """Little-endian uint16 when ids 0..n_vocab-1 fit in 16 bits, else uint32.

    Example: 50257 (gpt2) -> <u2; 100277 (cl100k_base) -> <u4
    """
    if n_vocab <= 1 << 16:
        return np.dtype("<u2")
    if n_vocab <= 1 << 32:
        return np.dtype("<u4")
    raise ValueError(f"n_vocab={n_vocab} does not fit in uint32 token ids")


def _header_bytes(dtype: np.dtype, count: int, encoding: str | None, n_vocab: int) -> bytes:
    meta = {
        "version": FORMAT_VERSION,
        "dtype": dtype.str,
        "count": int(count),
        "encoding": encoding,
        "n_vocab": int(n_vocab),
    }
    body = json.dumps(meta, ensure_ascii=True).encode("ascii")
    room = HEADER_SIZE - len(MAGIC) - 1
    if len(body) > room:
        raise ValueError(
            f"the header does not fit in {HEADER_SIZE} bytes; use a shorter encoding name than {encoding!r}"
        )
    return MAGIC + body.ljust(room) + b"\n"


def token_file_info(path: PathLike) -> TokenFileInfo:
    """Read and check a token file's header; the file size must match count * itemsize."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE or not head.startswith(MAGIC):
        raise ValueError(f"{path} is not a minembed token file (no {MAGIC!r} header); write one with write_tokens")
    try:
        meta = json.loads(head[len(MAGIC) :].decode("ascii"))
        dtype = np.dtype(meta["dtype"])
        count, n_vocab, encoding = int(meta["count"]), int(meta["n_vocab"]), meta["encoding"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: unreadable token file header: {error}") from None
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: token file version {meta.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    if dtype.str not in ("<u2", "<u4"):
        raise ValueError(f"{path}: token dtype {dtype.str!r} is not supported (expected '<u2' or '<u4')")
    expected = HEADER_SIZE + count * dtype.itemsize
    actual = path.stat().st_size
    if actual != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header promises {count} tokens ({expected} bytes) "
            f"but the file holds {actual} bytes"
        )
    return TokenFileInfo(path, dtype, count, encoding, n_vocab)


def open_tokens(path: PathLike) -> np.ndarray:
    """The token ids of a token file as a read-only memmap, shape (count,), dtype uint16 or uint32.

    Nothing is read until it is indexed; feed it straight to SlidingWindowDataset or random_batch.
    An empty file gives an empty read-only array (a zero-length memmap is not possible).
    """
    info = token_file_info(path)
    if info.count == 0:
        empty = np.zeros(0, dtype=info.dtype)
        empty.flags.writeable = False
        return empty
    return np.memmap(info.path, dtype=info.dtype, mode="r", offset=HEADER_SIZE, shape=(info.count,))


def _encoding_name_and_vocab(encoding) -> tuple[str | None, int | None]:
    if encoding is None:
        return None, None
    if isinstance(encoding, str):
        return encoding, None
    name = getattr(encoding, "name", None)
    n_vocab = getattr(encoding, "n_vocab", None)
    return (str(name) if name is not None else None), (int(n_vocab) if n_vocab is not None else None)


def write_tokens(path: PathLike, ids, *, encoding=None, n_vocab: int | None = None) -> TokenFileInfo:
    """Write token ids (any 1-D integer array or list) to a token file, atomically.

    `encoding` (a name or an Encoding) is recorded in the header; the vocabulary size that picks
    uint16 or uint32 is `n_vocab`, else `encoding.n_vocab`, else max(ids) + 1.
    """
    ids = as_token_array(ids, "ids")
    name, encoding_vocab = _encoding_name_and_vocab(encoding)
    if n_vocab is None:
        n_vocab = encoding_vocab
    if n_vocab is None:
        n_vocab = int(ids.max()) + 1 if len(ids) else 1
    if n_vocab < 1:
        raise ValueError(f"n_vocab must be at least 1, got n_vocab={n_vocab}")
    if len(ids) and (ids.min() < 0 or ids.max() >= n_vocab):
        bad = int(ids[(ids < 0) | (ids >= n_vocab)][0])
        raise ValueError(
            f"ids holds {bad}, outside the vocabulary range [0, {n_vocab}); pass the right n_vocab or encoding"
        )
    dtype = dtype_for_vocab(n_vocab)
    with atomic_write(path, "wb", fsync=True) as out:
        out.write(_header_bytes(dtype, len(ids), name, n_vocab))
        for start in range(0, len(ids), _WRITE_BLOCK):
            out.write(ids[start : start + _WRITE_BLOCK].astype(dtype).tobytes())
    return TokenFileInfo(Path(path), dtype, len(ids), name, n_vocab)


# ----------------------------------------------------------------------------------- tokenize_files

# Documents are cut into chunks only at the safe cut points of the encoding's split pattern
# (`minembed.text.cuts`), so each chunk encodes to exactly the tokens it has in the whole text.
_DEFAULT_CUTS = safe_cuts(GPT2_SPLIT_PATTERN)  # for other patterns: the cuts of gpt2, r50k, cl100k and o200k
DEFAULT_CHUNK_SIZE = (
    1 << 18
)  # bytes read per step: 256 KiB keeps the encoder's per-chunk garbage small, as fast as 1 MiB


def _document_chunks(path: Path, chunk_size: int | None, on_bytes, cuts: SafeCuts = _DEFAULT_CUTS) -> Iterator[str]:
    """The text of one file (UTF-8, a leading BOM dropped, newlines untouched) in chunks cut at `cuts`."""
    utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    read = 0  # bytes of the file decoded before the current block, to place an error in the file

    def decode(block: bytes, final: bool) -> str:
        nonlocal read
        try:
            text = utf8.decode(block, final=final)
        except UnicodeDecodeError as exc:  # say which file and where, and how to fix it
            raise UnicodeDecodeError(
                exc.encoding,
                exc.object,
                exc.start,
                exc.end,
                f"{exc.reason} near byte {read + exc.start} of input file {path}; the file is not valid UTF-8: "
                "convert it first, e.g. `iconv -f latin1 -t utf-8`",
            ) from None
        read += len(block)
        return text

    with open(path, "rb") as f:
        if chunk_size is None:
            data = f.read()
            on_bytes(len(data))
            yield decode(data, final=True)
            return
        pending = ""
        searched = 0  # pending[:searched] holds no safe cut, so a search can resume near there
        while True:
            block = f.read(chunk_size)
            on_bytes(len(block))
            pending += decode(block, final=not block)
            if not block:
                break
            # a cut looks back a few characters, so resume the search that far back
            cut = cuts.last_cut(pending, max(0, searched - cuts.lookbehind))
            if cut is None or cut == 0:
                searched = len(pending)
                continue
            yield pending[:cut]
            pending = pending[cut:]
            searched = 0
        if pending:
            yield pending


def tokenize_files(
    paths: PathLike | Iterable[PathLike],
    out_path: PathLike,
    encoding,
    *,
    workers: int = 2,
    progress: bool | None = None,
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
) -> TokenFileInfo:
    """Encode text files into one token file; each file is a document followed by <|endoftext|>.

    The output holds, file after file, `encoding.encode_ordinary(text) + [encoding.eot_token]`,
    where text is the file decoded as UTF-8 with a leading BOM dropped and newlines kept as they
    are ("<|endoftext|>" written inside a file is ordinary text, as in nanoGPT's data scripts).
    Files are read `chunk_size` bytes at a time and cut only at the safe cut points of the
    encoding's split pattern (`minembed.text.cuts`), so the tokens equal those of each file
    encoded whole (for the registered patterns: gpt2, r50k, cl100k, o200k, GPT-4; with another
    split pattern pass chunk_size=None to encode every file whole). Memory stays bounded
    by a few chunks, plus the longest stretch of a file without a safe cut.
    Chunks go through `encode_to_numpy(chunk, disallowed_special=())` where the encoding has it
    (minembed and tiktoken), so no Python list of ids is built, else `encode_ordinary`.
    `workers` threads encode chunks concurrently (workers=1 encodes in this thread); that pays
    only when a core is free and the encoding releases the GIL, so measure it on your machine
    (benchmarks/bench_data.py). `progress` shows a tqdm bar (default: when stderr is a terminal).
    Output goes to a temporary file renamed over out_path at the end, so an error or Ctrl-C
    leaves nothing behind.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"input file {p} does not exist or is not a file")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got workers={workers!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive number of bytes or None (whole files), got {chunk_size!r}")
    enc = as_encoding(encoding, "encode_ordinary")
    try:
        eot = int(enc.eot_token)
    except (AttributeError, KeyError):
        raise ValueError(
            f"encoding {getattr(enc, 'name', enc)!r} has no <|endoftext|> token to separate documents"
        ) from None
    n_vocab = int(enc.n_vocab)
    dtype = dtype_for_vocab(n_vocab)
    name = getattr(enc, "name", None)
    eot_bytes = np.array([eot], dtype=dtype).tobytes()
    if progress is None:
        progress = sys.stderr.isatty()

    from tqdm.auto import tqdm

    bar = tqdm(
        total=sum(p.stat().st_size for p in paths),
        unit="B",
        unit_scale=True,
        desc=f"tokenize {Path(out_path).name}",
        disable=not progress,
    )

    cuts = safe_cuts(getattr(enc, "pat_str", None) or getattr(enc, "_pat_str", "")) or _DEFAULT_CUTS

    if hasattr(enc, "encode_to_numpy"):  # minembed's and tiktoken's: no Python list of ids in between

        def encode(text: str) -> bytes:
            return enc.encode_to_numpy(text, disallowed_special=()).astype(dtype, copy=False).tobytes()

    else:

        def encode(text: str) -> bytes:
            return np.asarray(enc.encode_ordinary(text), dtype=dtype).tobytes()

    def pieces() -> Iterator[str | None]:
        for p in paths:
            yield from _document_chunks(p, chunk_size, bar.update, cuts)
            yield None  # end of document

    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    count = 0
    try:
        with atomic_write(out_path, "wb", fsync=True) as out:
            out.write(_header_bytes(dtype, 0, name, n_vocab))  # rewritten with the count at the end

            def write(data: bytes) -> None:
                nonlocal count
                out.write(data)
                count += len(data) // dtype.itemsize

            in_flight: deque = deque()  # futures (or None for a document end), in file order
            for piece in pieces():
                if pool is None:
                    write(eot_bytes if piece is None else encode(piece))
                    continue
                in_flight.append(None if piece is None else pool.submit(encode, piece))
                while len(in_flight) > 2 * workers:  # bounds the text and tokens held in memory
                    done = in_flight.popleft()
                    write(eot_bytes if done is None else done.result())
            while in_flight:
                done = in_flight.popleft()
                write(eot_bytes if done is None else done.result())
            out.seek(0)
            out.write(_header_bytes(dtype, count, name, n_vocab))
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True)
    return TokenFileInfo(Path(out_path), dtype, count, name, n_vocab)
