"""rustbpe, the BPE-training oracle: train on an iterable of texts, return the ranks.

rustbpe 0.1.0 (`Tokenizer.train_from_iterator`) splits every text with the GPT-4 style
pattern, counts the distinct pieces, then merges the most frequent adjacent pair, ties going
to the smallest `(left_id, right_id)`. `get_mergeable_ranks()` returns a list of
`(token_bytes, rank)`; we hand it back as a dict, the form tiktoken and minembed use.
"""

from __future__ import annotations

from collections.abc import Iterable


def train_ranks(texts: str | Iterable[str], vocab_size: int, *, pattern: str | None = None) -> dict[bytes, int]:
    """rustbpe's mergeable ranks after training on `texts` (a str is one text).

    `pattern=None` uses rustbpe's default split pattern.
    """
    import rustbpe

    if isinstance(texts, str):
        texts = [texts]
    tokenizer = rustbpe.Tokenizer()
    if pattern is None:
        tokenizer.train_from_iterator(iter(texts), vocab_size)
    else:
        tokenizer.train_from_iterator(iter(texts), vocab_size, pattern=pattern)
    return {bytes(token): rank for token, rank in tokenizer.get_mergeable_ranks()}


def default_pattern() -> str:
    """The split pattern rustbpe trains with when none is given."""
    import rustbpe

    tokenizer = rustbpe.Tokenizer()
    tokenizer.train_from_iterator(iter([""]), 256)
    return tokenizer.get_pattern()
