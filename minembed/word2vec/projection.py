"""PCA to two dimensions, for a scatter plot of word vectors."""

from __future__ import annotations

import numpy as np


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, 2) float64: the centred rows on the two leading principal axes (SVD).

    The sign of each axis is fixed so that its largest-magnitude loading is positive, so the
    picture does not flip between runs.

    >>> project_2d(np.array([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0]])).round(6).tolist()
    [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        raise ValueError(f"project_2d needs at least two vectors as an (N, D) array, got shape {vectors.shape}")
    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    signs = np.sign(axes[np.arange(axes.shape[0]), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    coordinates = centred @ axes.T
    if coordinates.shape[1] < 2:  # D == 1: pad the second axis
        coordinates = np.hstack([coordinates, np.zeros((coordinates.shape[0], 1))])
    return coordinates + 0.0  # no negative zeros
