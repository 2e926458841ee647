"""word2vec.c's vector file formats, text and binary, as gensim reads and writes them.

Both start with a header line "V D\n". Text: then one line per word, "word v1 v2 ... vD\n"
(values written as the shortest decimal that reads back to the same float32). Binary: "word "
then D little-endian float32 (4 * D bytes); word2vec.c adds "\n" after each vector, gensim does
not; the reader accepts both. Words are UTF-8 and must not contain whitespace.
Saving writes a temporary file in the same folder and renames it into place, so a failure never
leaves a half-written file.
"""

from __future__ import annotations

import numpy as np

from minembed._files import atomic_write
from minembed.word2vec.keyed_vectors import KeyedVectors


def save_word2vec_format(kv: KeyedVectors, path, binary: bool = False) -> None:
    """Write kv's words (in its order: descending count) and float32 vectors."""
    for word in kv.index_to_key:
        text = str(word)
        if not text or any(ch.isspace() for ch in text):
            raise ValueError(
                f"word {text!r} is empty or contains whitespace, which the word2vec format cannot "
                "store: rename it before saving"
            )
    vectors = np.ascontiguousarray(kv.vectors, dtype="<f4")
    with atomic_write(path, "wb") as out:
        out.write(f"{len(kv)} {kv.vector_size}\n".encode())
        if binary:
            for word, row in zip(kv.index_to_key, vectors):
                out.write(f"{word} ".encode() + row.tobytes())
        else:
            for word, row in zip(kv.index_to_key, vectors):
                # a float32 widened to float64 prints a decimal that reads back to the same float32
                values = " ".join(map(repr, row.tolist()))
                out.write(f"{word} {values}\n".encode())


def _header(line: bytes, path) -> tuple[int, int]:
    try:
        size, dim = (int(x) for x in line.split())
    except ValueError:
        raise ValueError(f"{path}: the first line must be 'vocab_size vector_size', got {line[:80]!r}") from None
    return size, dim


def load_word2vec_format(path, binary: bool = False) -> KeyedVectors:
    """Read a word2vec text or binary file; counts are made up in descending order, as gensim does."""
    with open(path, "rb") as source:
        size, dim = _header(source.readline(), path)
        words = []
        vectors = np.empty((size, dim), np.float32)
        if binary:
            for i in range(size):
                word = bytearray()
                while True:
                    ch = source.read(1)
                    if ch == b" ":
                        break
                    if ch == b"":
                        raise ValueError(f"{path}: file ends in the middle of word {i} of {size}")
                    if ch != b"\n" or word:  # word2vec.c's newline after the previous vector
                        word += ch
                data = source.read(4 * dim)
                if len(data) != 4 * dim:
                    raise ValueError(f"{path}: file ends in the middle of the vector of word {i} of {size}")
                words.append(word.decode("utf-8"))
                vectors[i] = np.frombuffer(data, dtype="<f4")
        else:
            for i in range(size):
                line = source.readline()
                if not line:
                    raise ValueError(f"{path}: the header says {size} words but the file has {i}")
                parts = line.decode("utf-8").rstrip().split(" ")
                if len(parts) != dim + 1:
                    raise ValueError(f"{path}: line {i + 2} has {len(parts) - 1} values, the header says {dim}")
                words.append(parts[0])
                vectors[i] = np.array(parts[1:], dtype=np.float32)
    seen: dict = {}
    keep = []
    for i, word in enumerate(words):
        if word not in seen:  # gensim keeps the first of duplicate words
            seen[word] = len(keep)
            keep.append(i)
    return KeyedVectors(
        list(seen), vectors[keep] if len(keep) != size else vectors, counts=np.arange(len(keep), 0, -1, dtype=np.int64)
    )
