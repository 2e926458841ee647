"""Demo stage: train word vectors on the text at hand and print the nearest neighbours of a few words.

Words that appear in similar contexts end up with nearby vectors; with a few hundred thousand
words of text, "king" finds "queen" and "prince". On the demo's short built-in essay the
neighbours are rougher, but the same code runs in a few seconds.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np

from minembed.word2vec import Word2Vec

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def sentences_of(text: str) -> list[list[str]]:
    """One sentence per non-empty line: lower-case runs of letters (an inner apostrophe kept)."""
    return [tokens for tokens in (_WORD.findall(line.lower()) for line in text.splitlines()) if tokens]


def run(
    text: str | None = None,
    words: list[str] | None = None,
    *,
    topn: int = 5,
    epochs: int | None = None,
    seed: int = 1,
    verbose: bool = True,
) -> dict:
    """Train skip-gram vectors on `text` (default: the demo's essay) and return/print
    {word: [(neighbour, cosine similarity), ...]} for `words` (default: frequent longer words)."""
    if text is None:
        from minembed.demos.sample_text import SAMPLE_TEXT

        text = SAMPLE_TEXT
    sentences = sentences_of(text)
    n_words = sum(map(len, sentences))
    small = n_words < 50_000
    # A short text needs many passes, every occurrence and every word seen twice to say anything.
    model = Word2Vec(
        vector_size=32 if small else 100,
        window=5,
        min_count=2 if small else 5,
        sg=1,
        sample=0 if small else 1e-3,
        epochs=epochs or (40 if small else 5),
        seed=seed,
        workers=1,
    )
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train()
    seconds = time.perf_counter() - start
    if words is None:
        counts = Counter(w for s in sentences for w in s)
        words = [w for w, _ in counts.most_common() if len(w) >= 5 and w in model.wv][:4]
    neighbours = {word: model.wv.most_similar(word, topn=topn) for word in words}
    if verbose:
        print(
            f"word2vec (skip-gram): {n_words:,} words, vocabulary {len(model.wv):,}, d={model.vector_size}, "
            f"{model.epochs} epochs in {seconds:.1f} s; loss per epoch {model.loss_history[0]:,.0f} -> "
            f"{model.loss_history[-1]:,.0f}"
        )
        for word, near in neighbours.items():
            print(f"  {word:>12s}: " + ", ".join(f"{w} {s:.2f}" for w, s in near))
    return {"neighbours": neighbours, "loss_history": list(model.loss_history), "vectors": np.asarray(model.wv.vectors)}
