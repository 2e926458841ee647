"""train_lm: text -> BPE -> windows -> TinyLM trained with AdamW (or SparseAdam for the token table).

It prints the loss every few steps (a progress bar between), a sample before and after
training, and the nearest neighbours of a few tokens in the learned table; it returns all of it.
The command line's `minembed train-lm FILES... [--steps N]` and `minembed demo` call it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from minembed.data import random_batch
from minembed.models.tinylm import TinyLM
from minembed.optim import AdamW, SparseAdam, WarmupCosine
from minembed.optim.optimizer import Optimizer


@dataclass
class TrainLMResult:
    """What train_lm made: the model, its tokenizer, the loss of every step, samples and neighbours."""

    model: TinyLM
    encoding: object  # minembed.Encoding
    losses: list[float]
    sample_before: str
    sample_after: str
    neighbours: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    seconds: float = 0.0


def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def nearest_neighbours(table: np.ndarray, token: int, k: int = 5) -> list[tuple[int, float]]:
    """The k rows of table (V, D) with the highest cosine similarity to row `token` (itself excluded)."""
    norms = np.linalg.norm(table, axis=1) + 1e-12
    similarity = (table @ table[token]) / (norms * norms[token])
    similarity[token] = -np.inf
    best = np.argsort(-similarity, kind="stable")[:k]
    return [(int(i), float(similarity[i])) for i in best]


def _optimizers(model: TinyLM, lr: float, weight_decay: float) -> list[Optimizer]:
    params = model.parameters()
    if not model.sparse:
        return [AdamW(params, lr=lr, weight_decay=weight_decay)]
    table = model.embedding.token_embedding.weight
    return [
        SparseAdam([p for p in params if p.data is table], lr=lr),
        AdamW([p for p in params if p.data is not table], lr=lr, weight_decay=weight_decay),
    ]


def _progress_bar(total: int, progress: bool | None):
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="train-lm", unit="step", leave=False, file=sys.stderr)


def train_lm(
    texts: str | Iterable[str],
    *,
    steps: int = 200,
    vocab_size: int = 512,
    d_model: int = 64,
    context_length: int = 64,
    batch_size: int = 16,
    lr: float = 1e-2,
    warmup_steps: int | None = None,
    weight_decay: float = 0.0,
    seed: int = 0,
    sparse: bool = False,
    sample_tokens: int = 24,
    neighbours_of: int = 4,
    log: Callable[[str], object] | None = print,
    progress: bool | None = None,
) -> TrainLMResult:
    """Train a BPE of vocab_size on texts, then a TinyLM on random windows of the encoded text.

    AdamW with a linear-warmup + cosine learning-rate schedule (warmup_steps defaults to steps // 10);
    sparse=True trains the token table with SparseAdam (and a separate output head). log(line) gets
    the report (None: silent); progress shows a bar on stderr (None: only on a terminal).
    """
    steps = _check_int("steps", steps)
    batch_size = _check_int("batch_size", batch_size)
    context_length = _check_int("context_length", context_length)
    d_model = _check_int("d_model", d_model)
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a str or an iterable of str (read files first)")
    say = log if log is not None else (lambda line: None)
    start = time.perf_counter()

    from minembed.tokenizers.train import train_bpe

    encoding = train_bpe(texts, vocab_size, progress=False)
    ids = np.concatenate([np.asarray(encoding.encode_ordinary(t), np.int64) for t in texts])
    if ids.size <= context_length:
        raise ValueError(
            f"the text has {ids.size} tokens, too few for context_length={context_length}: "
            f"give more text or a smaller context_length (at most {max(1, ids.size - 1)})"
        )
    say(f"BPE: {encoding.n_vocab} tokens; text: {ids.size:,} tokens")
    rng = np.random.default_rng(seed)
    model = TinyLM(encoding.n_vocab, context_length, d_model, tie_weights=not sparse, sparse=sparse, rng=rng)
    optimizers = _optimizers(model, lr, weight_decay)
    warmup = max(1, steps // 10) if warmup_steps is None else warmup_steps
    schedules = [WarmupCosine(opt, warmup_steps=warmup, total_steps=steps) for opt in optimizers]

    prompt = ids[: min(8, context_length)]
    sample_before = encoding.decode(model.generate(prompt, sample_tokens, temperature=0.8, seed=seed)[prompt.size :])
    say(f"{model!r}, {sum(p.data.size for p in model.parameters()):,} parameters")
    say(f"sample before training: {sample_before!r}")

    every = max(1, steps // 10)
    losses: list[float] = []
    bar = _progress_bar(steps, progress)
    for step in range(steps):
        x, y = random_batch(ids, batch_size, context_length, rng)
        model.zero_grad()
        loss = model.loss_and_backward(x, y)  # model(x), the criterion and model.backward in one blocked pass
        for opt, schedule in zip(optimizers, schedules):
            opt.step()
            schedule.step()
        losses.append(loss)
        if bar is not None:
            bar.update(1)
        if step % every == 0 or step == steps - 1:
            if bar is not None:
                bar.clear()
            say(f"step {step + 1:5d}/{steps}  loss {loss:.4f}  lr {schedules[0].get_last_lr()[0]:.2e}")
    if bar is not None:
        bar.close()

    sample_after = encoding.decode(model.generate(prompt, sample_tokens, temperature=0.8, seed=seed)[prompt.size :])
    say(f"sample after training:  {sample_after!r}")
    neighbours = {}
    table = model.embedding.token_embedding.weight
    counts = np.bincount(ids, minlength=encoding.n_vocab)
    for token in np.argsort(-counts, kind="stable")[:neighbours_of]:
        word = encoding.decode([int(token)])
        near = [(encoding.decode([i]), round(s, 3)) for i, s in nearest_neighbours(table, int(token))]
        neighbours[word] = near
        say(f"nearest to {word!r}: " + ", ".join(f"{w!r} {s:.2f}" for w, s in near))
    seconds = time.perf_counter() - start
    say(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {steps} steps ({seconds:.1f} s)")
    return TrainLMResult(model, encoding, losses, sample_before, sample_after, neighbours, seconds)
