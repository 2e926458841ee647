"""Demo stage: the course's seeded embedding table, drawn by minembed with torch's stream."""

from __future__ import annotations

from collections.abc import Callable


def show_seeded_embedding(out: Callable[[str], object] = print, seed: int = 123) -> None:
    """Print `minembed.manual_seed(123); minembed.nn.Embedding(6, 3).weight`: torch's very table.

    >>> show_seeded_embedding()  # doctest: +ELLIPSIS
    minembed.manual_seed(123); minembed.nn.Embedding(6, 3).weight  (torch gives the same, bit for bit)
      [0.3374, -0.1778, -0.1690]
    ...
    """
    import minembed

    minembed.manual_seed(seed)
    weight = minembed.nn.Embedding(6, 3).weight
    out(f"minembed.manual_seed({seed}); minembed.nn.Embedding(6, 3).weight  (torch gives the same, bit for bit)")
    for row in weight:
        out("  [" + ", ".join(f"{value:.4f}" for value in row) + "]")
