"""Pictures of the pipeline, with matplotlib (an optional extra: `pip install 'minembed[plot]'`).

Each `*_figure` function returns a matplotlib Figure (drawn on the Agg canvas, so no window and
no pyplot state) whose labelled points can be counted before it is saved; `save_png` writes it
atomically. `pca_2d` and `read_word2vec_text` need only NumPy. matplotlib is imported on the
first call that draws, never by `import minembed` or `import minembed.viz`.
"""

from minembed.viz.figures import (
    embedding_figure,
    labelled_points,
    positions_figure,
    save_png,
    token_lengths_figure,
    windows_figure,
)
from minembed.viz.vectors import pca_2d, read_word2vec_text

__all__ = [
    "embedding_figure",
    "labelled_points",
    "pca_2d",
    "positions_figure",
    "read_word2vec_text",
    "save_png",
    "token_lengths_figure",
    "windows_figure",
]
