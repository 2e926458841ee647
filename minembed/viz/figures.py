"""The four pictures of `minembed plot`, as matplotlib Figures, and an atomic PNG writer.

Every function takes the data (arrays, not files) and `size` in pixels; the figure is made at
100 dpi, so a saved PNG is exactly `size`. Labelled points are the figure's first axes' texts,
so a caller (or a test) can count them before saving.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from minembed._files import atomic_write
from minembed.viz.vectors import pca_2d

DPI = 100


def _figure(size: tuple[int, int]):
    """A Figure of `size` pixels on its own Agg canvas (no pyplot, no window, no global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "drawing needs matplotlib, an optional extra: pip install 'minembed[plot]' (or pip install matplotlib)"
        ) from None
    width, height = size
    if width < 100 or height < 100:
        raise ValueError(f"size must be at least 100 x 100 pixels, got {width} x {height}")
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def embedding_figure(
    vectors, labels: list[str], *, normalize: bool = False, title: str = "", size: tuple[int, int] = (1000, 750)
):
    """A labelled scatter of `vectors` (n, d) projected on their first two principal components.

    normalize: scale each vector to unit length first, so the picture shows directions (cosine
    similarity, what word-vector neighbours are ranked by) rather than lengths, which track frequency.
    """
    vectors = np.asarray(vectors)
    if len(labels) != len(vectors):
        raise ValueError(f"labels must name every row: {len(labels)} labels for {len(vectors)} vectors")
    if normalize:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1, norms)
    points = pca_2d(vectors)
    figure = _figure(size)
    ax = figure.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=18, color="tab:blue")
    for (x, y), label in zip(points, labels):
        ax.annotate(label, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(title or f"{len(labels)} vectors of dimension {vectors.shape[1]}, PCA to 2-D")
    return figure


def positions_figure(table, *, title: str = "", size: tuple[int, int] = (1000, 600)):
    """A heatmap of a position table (positions, dim), e.g. `sinusoidal_positions(128, 64)`."""
    table = np.asarray(table)
    figure = _figure(size)
    ax = figure.add_subplot()
    image = ax.imshow(table.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, origin="lower", interpolation="nearest")
    figure.colorbar(image, ax=ax)
    ax.set_xlabel("position")
    ax.set_ylabel("feature (even: sin, odd: cos)")
    ax.set_title(title or f"sinusoidal positions: {table.shape[0]} positions x {table.shape[1]} features")
    return figure


def token_lengths_figure(lengths, *, title: str = "", size: tuple[int, int] = (1000, 600)):
    """A histogram of token lengths in bytes, one bar per length, each bar labelled with its count."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size == 0:
        raise ValueError("no tokens to count: pass a non-empty text")
    counts = np.bincount(lengths)
    present = np.flatnonzero(counts)
    figure = _figure(size)
    ax = figure.add_subplot()
    ax.bar(present, counts[present], color="tab:blue")
    for length in present:
        ax.annotate(f"{counts[length]:,}", (length, counts[length]), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("token length (bytes)")
    ax.set_ylabel("tokens")
    ax.set_title(title or f"{lengths.size:,} tokens, mean {lengths.mean():.2f} bytes")
    return figure


def windows_figure(
    num_tokens: int,
    max_length: int,
    stride: int,
    *,
    labels: list[str] | None = None,
    title: str = "",
    size: tuple[int, int] = (1000, 600),
):
    """How SlidingWindowDataset(max_length, stride) covers `num_tokens` tokens: one row per window,
    the input span in blue and its target (shifted by one) in orange; each window labelled."""
    from minembed.data import SlidingWindowDataset

    dataset = SlidingWindowDataset(np.arange(num_tokens), max_length, stride)
    figure = _figure(size)
    ax = figure.add_subplot()
    for row in range(len(dataset)):
        x, _ = dataset[row]
        start = int(x[0])
        ax.broken_barh([(start, max_length)], (row - 0.4, 0.35), color="tab:blue")
        ax.broken_barh([(start + 1, max_length)], (row + 0.05, 0.35), color="tab:orange")
        ax.annotate(f"window {row}", (start + max_length + 1.5, row), va="center", fontsize=8)
    ax.set_xlim(0, num_tokens + 4)  # room for the last label
    ax.set_ylim(len(dataset) - 0.5, -0.6)  # window 0 on top
    ax.set_yticks(range(len(dataset)))
    ax.set_xlabel("token position")
    ax.set_ylabel("window")
    if labels is not None and num_tokens <= 64:  # the tokens themselves, when they fit
        ax.set_xticks(np.arange(num_tokens) + 0.5, labels[:num_tokens], rotation=90, fontsize=7)
    covered = (len(dataset) - 1) * stride + max_length + 1 if len(dataset) else 0
    ax.set_title(
        title
        or f"{len(dataset)} windows of {max_length} tokens, stride {stride}, over {num_tokens} tokens "
        f"(inputs blue, targets orange; {num_tokens - covered} unused at the end)"
    )
    return figure


def labelled_points(figure) -> list[str]:
    """The labels drawn on a figure's first axes (one per labelled point, bar or window)."""
    return [text.get_text() for text in figure.axes[0].texts]


def save_png(figure, path: str | os.PathLike) -> Path:
    """Save `figure` as a PNG at path, atomically: a temporary file renamed into place at the end."""
    path = Path(path)
    with atomic_write(path, "wb") as f:
        figure.savefig(f, format="png", dpi=DPI)
    return path
