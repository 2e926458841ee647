"""The main job: text -> BPE -> ids -> windows -> batches -> embeddings -> gradients, checked.

Each stage prints what it made (shapes, sizes, timings) and checks itself against the plain
NumPy path, so a run is a small end-to-end test of the package that needs no files.

The demo is the list `STAGES` of (title, function) pairs, run in order on one `DemoState`. A stage
reads what earlier stages left in the state (`state.encoding`, `state.ids`, `state.x`, ...) and may
leave more in `state.extras`. Adding a stage is one line in STAGES: `("what it shows", my_stage)`,
where `my_stage(state)` prints indented lines and calls `check(label, ok)`. A title may name
config fields, e.g. "table {config.big_vocab}".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from minembed import train_bpe
from minembed.data import DataLoader, SlidingWindowDataset
from minembed.demos import one_hot_linear
from minembed.nn import Embedding, TokenAndPositionEmbedding


@dataclass
class DemoConfig:
    text: str | None = None  # None: default_text(), the Python documentation topics
    source: str = "your text"  # where the text comes from, for the output
    encoding: str | None = None  # a registered encoding name; None trains a BPE on the text
    bpe_vocab_size: int = 400
    context_length: int = 32
    stride: int = 16
    batch_size: int = 8
    embedding_dim: int = 64
    # The realistic batch of the big-table check: GPT-2's vocabulary and width.
    big_vocab: int = 50257
    big_dim: int = 768
    big_batch: tuple[int, int] = (8, 1024)
    seed: int = 0


@dataclass
class DemoState:
    """What the stages hand on to each other."""

    config: DemoConfig
    rng: np.random.Generator  # every random choice of every stage, from config.seed
    text: str = ""
    encoding: object = None  # the Encoding of stage 1
    ids: np.ndarray | None = None  # (N,) uint32, the text's ids
    x: np.ndarray | None = None  # (B, T) int64, the first batch's inputs
    y: np.ndarray | None = None  # (B, T) int64, its targets
    extras: dict = field(default_factory=dict)  # whatever a stage leaves for later ones


def check(label: str, ok: bool) -> None:
    """Print one check's outcome; a failed check stops the demo."""
    print(f"   check: {label}: {'ok' if ok else 'FAILED'}")
    if not ok:
        raise AssertionError(f"demo check failed: {label}")


def _timed(fn, repeat: int = 5) -> float:
    """Best of `repeat` wall times of fn(), in milliseconds (the first call compiles or warms)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def tokenizer_stage(state: DemoState) -> None:
    config, text = state.config, state.text
    if config.encoding is None:
        encoding = train_bpe(text, config.bpe_vocab_size, special_tokens=["<|endoftext|>"], progress=False)
        print(f"   trained a byte-level BPE on {len(text):,} characters: {encoding.n_vocab} tokens")
    else:
        from minembed import get_encoding

        encoding = get_encoding(config.encoding)
        print(f"   loaded {encoding.name}: {encoding.n_vocab:,} tokens")
    ids = encoding.encode_to_numpy(text)
    n_bytes = len(text.encode())
    print(
        f"   {n_bytes:,} bytes -> {ids.size:,} token ids ({ids.dtype}), "
        f"{n_bytes / max(ids.size, 1):.2f} bytes per token"
    )
    print(f"   first tokens: {[encoding.decode_single_token_bytes(int(t)) for t in ids[:8]]}")
    check("decode(encode(text)) == text", encoding.decode(ids.tolist()) == text)
    state.encoding, state.ids = encoding, ids


def windows_stage(state: DemoState) -> None:
    config = state.config
    dataset = SlidingWindowDataset(state.ids, config.context_length, config.stride)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True, seed=config.seed)
    state.x, state.y = next(iter(loader))
    print(
        f"   {len(dataset):,} windows of {config.context_length} tokens, stride {config.stride}; "
        f"{len(loader):,} batches of {config.batch_size}; x, y: {state.x.shape} {state.x.dtype}"
    )
    first_x, first_y = dataset[0]
    check("windows are views of the id array", np.shares_memory(first_x, state.ids))
    check("target is the input shifted by one", np.array_equal(first_x[1:], first_y[:-1]))


def embedding_stage(state: DemoState) -> None:
    config, x, rng = state.config, state.x, state.rng
    layer = TokenAndPositionEmbedding(state.encoding.n_vocab, config.context_length, config.embedding_dim, rng=rng)
    h = layer(x)  # (B, T, D)
    grad = rng.standard_normal(h.shape).astype(h.dtype)
    layer.backward(grad)
    token_grad = layer.token_embedding.grad
    print(
        f"   x {x.shape} -> h {h.shape}; token grad {token_grad.shape}, "
        f"position grad {layer.position_embedding.grad.shape}"
    )
    expected_h = layer.token_embedding.weight[x] + layer.position_embedding.weight[None, : x.shape[1]]
    check("h == W_tok[x] + W_pos[:T]", np.allclose(h, expected_h, rtol=1e-6, atol=1e-6))
    expected_grad = np.zeros_like(token_grad)
    np.add.at(expected_grad, x.reshape(-1), grad.reshape(-1, config.embedding_dim))
    check("token grad == np.add.at scatter", np.array_equal(token_grad, expected_grad))
    check(
        "position grad == grad summed over the batch",
        np.allclose(layer.position_embedding.grad[: x.shape[1]], grad.sum(axis=0), rtol=1e-5, atol=1e-5),
    )


def big_table_stage(state: DemoState) -> None:
    config, rng = state.config, state.rng
    table = Embedding(config.big_vocab, config.big_dim, rng=rng)
    big_ids = rng.integers(0, config.big_vocab, size=config.big_batch)
    big_grad = rng.standard_normal(config.big_batch + (config.big_dim,), dtype=np.float32)
    out = table(big_ids)
    table.backward(big_grad)
    print(f"   forward {big_ids.shape} -> {out.shape} {out.dtype}; dense grad {table.grad.shape}")
    check("forward == np.take(weight, ids, axis=0)", np.array_equal(out, np.take(table.weight, big_ids, axis=0)))
    plain = np.zeros_like(table.weight)
    np.add.at(plain, big_ids.reshape(-1), big_grad.reshape(-1, config.big_dim))
    check("dense grad == np.add.at, bit for bit", np.array_equal(table.grad, plain))

    def backward_fresh():
        table.zero_grad()
        table.backward(big_grad)

    def numpy_backward():
        g = np.zeros_like(table.weight)
        np.add.at(g, big_ids.reshape(-1), big_grad.reshape(-1, config.big_dim))

    forward_ms = _timed(lambda: table(big_ids))
    numpy_forward_ms = _timed(lambda: np.take(table.weight, big_ids, axis=0))
    backward_ms, numpy_backward_ms = _timed(backward_fresh), _timed(numpy_backward, repeat=2)
    print(f"   forward  {forward_ms:8.2f} ms   (np.take    {numpy_forward_ms:8.2f} ms)")
    print(f"   backward {backward_ms:8.2f} ms   (np.add.at  {numpy_backward_ms:8.2f} ms)")


def one_hot_stage(state: DemoState) -> None:
    result = one_hot_linear.run(seed=state.config.seed, verbose=False)
    print(f"   forward max |diff| {result['forward_max_abs_diff']}, gradient max |diff| {result['grad_max_abs_diff']}")
    check(
        "same output and same table gradient, one shared table",
        result["forward_max_abs_diff"] == 0 and result["grad_max_abs_diff"] == 0 and result["shares_memory"],
    )


Stage = tuple[str, Callable[[DemoState], None]]


def seeded_stage(state: DemoState) -> None:
    from minembed.demos.seeded import show_seeded_embedding

    show_seeded_embedding(out=lambda line: print("   " + line))


def word_vectors_stage(state: DemoState) -> None:
    import contextlib
    import io

    from minembed.demos.word_vectors import run as train_word_vectors

    words = [w for w in ("function", "class", "exception", "module", "king", "love") if w in state.text.lower()][:4]
    report = io.StringIO()
    with contextlib.redirect_stdout(report):  # indent its lines like the other stages'
        result = train_word_vectors(state.text, words or None, epochs=5)
    for line in report.getvalue().splitlines():
        print("   " + line.strip())
    losses = result["loss_history"]
    check("the loss fell from the first epoch to the last", losses[-1] < losses[0])


def tiny_lm_stage(state: DemoState) -> None:
    from minembed.demos.tiny_lm import run_tiny_lm_stage

    # a slice of the text keeps the stage to a few seconds; train_lm trains its own small BPE on it
    run_tiny_lm_stage(state.text[:60_000], log=lambda line: print("   " + line.lstrip()))


STAGES: list[Stage] = [
    ("torch's numbers without torch: the course's seeded table", seeded_stage),
    ("tokenizer", tokenizer_stage),
    ("windows and batches", windows_stage),
    ("token + position embedding, forward and backward", embedding_stage),
    ("a realistic batch: table {config.big_vocab} x {config.big_dim}, ids {config.big_batch}", big_table_stage),
    ("the lookup is a matrix product: Embedding(ids) == one_hot(ids) @ W, tied weights", one_hot_stage),
    ("embeddings that mean something: Word2Vec (skip-gram) on the text, nearest neighbours", word_vectors_stage),
    ("embeddings learned the LLM way: a tiny LM trained with AdamW on next-token prediction", tiny_lm_stage),
]


def run(config: DemoConfig | None = None, stages: list[Stage] | None = None) -> DemoState:
    """Run every stage (default: STAGES) on config.text, checking each one; returns the final state."""
    config = config or DemoConfig()
    if config.text is None:
        from minembed.demos.default_text import default_text

        text, source = default_text()
    else:
        text, source = config.text, config.source
    state = DemoState(config=config, rng=np.random.default_rng(config.seed), text=text)
    print(
        "minembed demo: the first run compiles the Numba kernels (tens of seconds); later runs load them "
        "from Numba's cache."
    )
    print(f"text: {source}")
    for number, (title, stage) in enumerate(STAGES if stages is None else stages, start=1):
        start = time.perf_counter()
        print(f"\n== {number}. {title.format(config=config)}")
        stage(state)
        print(f"   ({(time.perf_counter() - start) * 1e3:.1f} ms)")
    print("\nall checks passed")
    return state
