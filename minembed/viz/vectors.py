"""Vectors to look at: a 2-D PCA projection, and word vectors in word2vec's text format."""

from __future__ import annotations

import os

import numpy as np


def pca_2d(vectors) -> np.ndarray:
    """(n, d) vectors -> (n, 2) float64: their coordinates on the first two principal components.

    Centred, then projected on the top two right singular vectors; each axis's sign is fixed so
    that its largest coordinate is positive (SVD signs are arbitrary), so a picture is stable.

    >>> pca_2d(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])).round(6).tolist()
    [[-2.0, 0.0], [-1.0, 0.0], [3.0, 0.0]]
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"vectors must be a 2-D array of at least 2 rows, got shape {x.shape}; pick more rows")
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    components = np.zeros((2, x.shape[1]))
    components[: min(2, vt.shape[0])] = vt[:2]
    projected = x @ components.T  # (n, 2)
    for axis in range(2):
        column = projected[:, axis]
        if column.size and column[np.argmax(np.abs(column))] < 0:
            projected[:, axis] = -column
    return projected + 0.0  # + 0.0 turns -0.0 into 0.0


def read_word2vec_text(path: str | os.PathLike, words: list[str] | None = None, limit: int | None = None):
    """Word vectors from word2vec's text format (a `count dim` line, then `word v1 ... vdim` lines).

    Returns (words, vectors (n, dim) float32): the `words` asked for, in that order (a missing one
    raises KeyError naming it), else the first `limit` words of the file (all when None).
    """
    with open(path, encoding="utf-8") as f:
        header = f.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise ValueError(f"{path}: the first line should be '<count> <dim>' (word2vec text format), got {header}")
        dim = int(header[1])
        wanted = None if words is None else set(words)
        found: dict[str, np.ndarray] = {}
        for number, line in enumerate(f, start=2):
            word, *values = line.rstrip("\n").split(" ")
            if wanted is not None and word not in wanted:
                continue
            if len(values) != dim:
                raise ValueError(f"{path}, line {number}: expected {dim} numbers after the word, got {len(values)}")
            found[word] = np.array(values, dtype=np.float32)
            if (wanted is not None and len(found) == len(wanted)) or (wanted is None and len(found) == limit):
                break
    if words is None:
        words = list(found)
    missing = [w for w in words if w not in found]
    if missing:
        raise KeyError(f"{path} has no vector for {', '.join(map(repr, missing[:5]))}; pick words from the file")
    return list(words), np.stack([found[w] for w in words]) if words else np.zeros((0, dim), np.float32)
