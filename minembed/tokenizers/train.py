"""Train a byte-level BPE tokenizer from scratch, with the same merges as rustbpe.

Rule (rustbpe 0.1.0's, checked against it by the tests): split every text with `pat_str`,
count each distinct piece; then, until the vocabulary is full, merge the adjacent pair of
ids with the largest count (pairs counted over all pieces, weighted by the piece counts),
ties going to the smallest `(left_id, right_id)`, applied left to right without overlaps in
every piece. The merge made k-th becomes token 256 + k; its bytes are its two parts' bytes.

Two stages: `pretokenize.count_pieces_flat` (two threads over batches of the streamed
corpus; Numba for the registered patterns, the default GPT-4 one included), then the Numba
merge loop `tokenizers.kernels.train_merges` on flat integer arrays.

>>> enc = train_bpe(["low lower lowest"] * 10, 260)  # (l, o) and (o, w) tie at 30: smaller wins
>>> [enc.decode_single_token_bytes(t) for t in range(256, 260)]
[b'lo', b'low', b' low', b' lowe']
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterable

import numpy as np
import regex

from minembed.text.patterns import GPT4_SPLIT_PATTERN
from minembed.tokenizers.encoding import Encoding
from minembed.tokenizers.pretokenize import count_pieces_flat

__all__ = ["train_bpe", "train_bpe_ranks"]


def _check_vocab_size(vocab_size: object, n_special: int) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        whole = isinstance(vocab_size, float) and vocab_size.is_integer()
        raise TypeError(
            f"vocab_size must be an integer, got {vocab_size!r} ({type(vocab_size).__name__}); "
            f"pass e.g. vocab_size={int(vocab_size) if whole else 32768}"
        )
    smallest = 256 + n_special
    if vocab_size < smallest:
        raise ValueError(
            f"vocab_size must be at least {smallest} (256 byte tokens + {n_special} special tokens), "
            f"got {vocab_size}; pass vocab_size >= {smallest}"
        )
    return int(vocab_size)


def _check_special_tokens(special_tokens: object) -> list[str]:
    if special_tokens is None:
        return []
    if isinstance(special_tokens, (str, bytes)):
        raise TypeError(
            f"special_tokens must be a list of str, got the single {type(special_tokens).__name__} "
            f"{special_tokens!r}; pass special_tokens=[{special_tokens!r}]"
        )
    tokens = list(special_tokens)  # a dict gives its keys
    for token in tokens:
        if not isinstance(token, str) or not token:
            raise TypeError(f"special_tokens must hold non-empty str, got {token!r}")
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"special_tokens has duplicates: {tokens!r}; list each special token once")
    return tokens


def _check_texts(texts: object) -> None:
    if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, (str, Iterable)):
        raise TypeError(
            f"texts must be a str or an iterable of str, got {type(texts).__name__}; "
            "decode bytes first, e.g. `data.decode('utf-8')`"
        )


def _check_pattern(pat_str: object) -> str:
    if not isinstance(pat_str, str):
        raise TypeError(f"pat_str must be a regex pattern str, got {type(pat_str).__name__}")
    try:
        regex.compile(pat_str)
    except regex.error as exc:
        raise ValueError(f"pat_str is not a valid regex ({exc}): {pat_str!r}") from None
    return pat_str


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return bool(progress)


def _run_merges(tokens, offsets, counts, n_merges: int, show: bool) -> np.ndarray:
    """The Numba merge loop; with a progress bar it runs in a thread (it releases the GIL)."""
    from minembed.tokenizers.kernels.train_merges import train_merges  # Numba, loaded on first use

    done = np.zeros(1, dtype=np.int64)
    if not show or n_merges == 0:
        return train_merges(tokens, offsets, counts, n_merges, done)
    from tqdm.auto import tqdm

    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["merges"] = train_merges(tokens, offsets, counts, n_merges, done)
        except BaseException as exc:  # pragma: no cover - re-raised below
            result["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    with tqdm(total=n_merges, desc="merges", unit="merge") as bar:
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            bar.update(int(done[0]) - bar.n)
        bar.update(int(done[0]) - bar.n)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["merges"]  # type: ignore[return-value]


def train_bpe_ranks(
    texts: str | Iterable[str],
    vocab_size: int,
    *,
    pat_str: str = GPT4_SPLIT_PATTERN,
    special_tokens: Iterable[str] | None = None,
    progress: bool | None = None,
) -> dict[bytes, int]:
    """The mergeable ranks: the 256 single bytes (rank = byte value), then the merges in order.

    `vocab_size` counts the special tokens too (they are not in the result); occurrences of
    them in `texts` are cut out before counting, so they never take part in merges. If the
    corpus runs out of pairs first, training stops early with a RuntimeWarning.
    """
    return _train_ranks(texts, vocab_size, pat_str, special_tokens, progress, warn_stacklevel=3)


def _train_ranks(texts, vocab_size, pat_str, special_tokens, progress, warn_stacklevel: int) -> dict[bytes, int]:
    _check_texts(texts)
    specials = _check_special_tokens(special_tokens)
    vocab_size = _check_vocab_size(vocab_size, len(specials))
    pat_str = _check_pattern(pat_str)
    n_merges = vocab_size - 256 - len(specials)
    show = _show_progress(progress)

    if show:
        from tqdm.auto import tqdm

        with tqdm(desc="pieces", unit="piece", unit_scale=True) as bar:
            tokens, offsets, counts = count_pieces_flat(texts, pat_str, special_tokens=specials, progress=bar.update)
    else:
        tokens, offsets, counts = count_pieces_flat(texts, pat_str, special_tokens=specials)
    return ranks_from_piece_counts(tokens, offsets, counts, n_merges, show, len(specials), warn_stacklevel + 1)


def ranks_from_piece_counts(
    tokens, offsets, counts, n_merges: int, show: bool, n_special: int, warn_stacklevel: int = 2
) -> dict[bytes, int]:
    """Stage 2 alone: the ranks learned from counted pieces (the layout of `count_pieces_packed`).

    tokens (T,) uint8 or int32 byte values, offsets (P+1,) int64, counts (P,) int64; the order of the
    pieces does not matter. Sharded training (minembed.data.shards) counts elsewhere and ends here.
    """
    merges = _run_merges(tokens, offsets, counts, n_merges, show)
    vocab_size = 256 + n_merges + n_special
    if len(merges) < n_merges:
        warnings.warn(
            f"the corpus has only {len(merges)} possible merges, fewer than the {n_merges} asked for; "
            f"the vocabulary has {256 + len(merges) + n_special} tokens instead of {vocab_size}",
            RuntimeWarning,
            stacklevel=warn_stacklevel,  # point at the user's call
        )
    vocab = [bytes([i]) for i in range(256)]
    for left, right in merges.tolist():
        vocab.append(vocab[left] + vocab[right])
    return {token: rank for rank, token in enumerate(vocab)}


def train_bpe(
    texts: str | Iterable[str],
    vocab_size: int,
    *,
    pat_str: str = GPT4_SPLIT_PATTERN,
    special_tokens: Iterable[str] | None = None,
    progress: bool | None = None,
    name: str = "minembed_bpe",
) -> Encoding:
    """Train a byte-level BPE Encoding on `texts` (a str, or any iterable of str, streamed).

    Ranks: 256 single bytes, then the learned merges; the special tokens get the ids right
    after them, in the order given. `vocab_size` includes the special tokens.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    specials = _check_special_tokens(special_tokens)
    ranks = _train_ranks(texts, vocab_size, pat_str, specials, progress, warn_stacklevel=3)
    special_ids = {token: len(ranks) + i for i, token in enumerate(specials)}
    return Encoding(name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_ids)
