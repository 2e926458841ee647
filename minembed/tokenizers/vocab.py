"""Vocab: a bijection between tokens (str) and ids (int), with special tokens.

Built the way the classic course builds its word-level vocabulary: the sorted unique tokens of a
token stream get ids 0..n-1, then the special tokens are appended in the order given.

>>> vocab = Vocab.from_tokens(["the", "cat", "the"], special_tokens=["<|endoftext|>", "<|unk|>"])
>>> vocab.tokens
('cat', 'the', '<|endoftext|>', '<|unk|>')
>>> vocab["the"], vocab.id_to_token(3)
(1, '<|unk|>')
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from minembed._files import atomic_write

_FORMAT = "minembed.vocab"
_VERSION = 1


class Vocab:
    """Token <-> id lookups in both directions; id i is `tokens[i]`.

    `Vocab(tokens)` takes the tokens in id order and refuses duplicates; `Vocab.from_tokens`
    builds one from a raw token stream. Lookups: `vocab[token]` / `vocab.token_to_id(token)` ->
    int, `vocab.id_to_token(i)` -> str; both raise KeyError for what is not there.
    """

    def __init__(self, tokens: Sequence[str], *, special_tokens: Sequence[str] = ()) -> None:
        tokens = tuple(tokens)
        for position, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(f"tokens must be str, got {type(token).__name__} {token!r} at id {position}")
        stoi: dict[str, int] = {}
        for i, token in enumerate(tokens):
            if token in stoi:
                raise ValueError(
                    f"token {token!r} appears twice (ids {stoi[token]} and {i}); a Vocab is a bijection, "
                    "so pass each token once (Vocab.from_tokens deduplicates a raw stream)"
                )
            stoi[token] = i
        special_tokens = tuple(special_tokens)
        missing = [t for t in special_tokens if t not in stoi]
        if missing:
            raise ValueError(f"special_tokens {missing!r} are not among the tokens; add them to tokens first")
        self._itos = tokens
        self._stoi = stoi
        self._special_tokens = special_tokens

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], *, special_tokens: Sequence[str] = ()) -> Vocab:
        """Sorted unique tokens get ids 0..n-1, then `special_tokens` are appended in the order given.

        A special token that also occurs in the stream is placed once, at its special position
        (the course code would list it twice and leave a hole in the ids).
        Example: ["b", "a", "b"], special_tokens=["<|unk|>"] -> a=0, b=1, <|unk|>=2
        """
        if isinstance(special_tokens, str):
            raise TypeError(
                f"special_tokens must be a sequence of str, got the str {special_tokens!r}; "
                f"wrap it in a tuple: ({special_tokens!r},)"
            )
        specials = tuple(special_tokens)
        if len(set(specials)) != len(specials):
            raise ValueError(f"special_tokens holds duplicates: {specials!r}")
        reserved = set(specials)
        words = sorted({t for t in tokens if t not in reserved})
        return cls(words + list(specials), special_tokens=specials)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, in id order."""
        return self._itos

    @property
    def special_tokens(self) -> tuple[str, ...]:
        return self._special_tokens

    @property
    def stoi(self) -> dict[str, int]:
        """A copy of the token -> id mapping (the course's `str_to_int`)."""
        return dict(self._stoi)

    @property
    def itos(self) -> dict[int, str]:
        """A copy of the id -> token mapping (the course's `int_to_str`)."""
        return dict(enumerate(self._itos))

    def token_to_id(self, token: str) -> int:
        try:
            return self._stoi[token]
        except (KeyError, TypeError):
            raise KeyError(f"token {token!r} is not in the vocabulary of {len(self)} tokens") from None

    def id_to_token(self, id: int) -> str:
        if isinstance(id, bool) or not isinstance(id, numbers.Integral):
            raise TypeError(f"token ids must be integers, got {type(id).__name__} {id!r}")
        index = int(id)
        if not 0 <= index < len(self._itos):
            raise KeyError(f"token id {index} is outside the vocabulary: valid ids are 0..{len(self._itos) - 1}")
        return self._itos[index]

    def __getitem__(self, token: str) -> int:
        return self.token_to_id(token)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._stoi

    def __len__(self) -> int:
        return len(self._itos)

    def __iter__(self) -> Iterator[str]:
        return iter(self._itos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._itos == other._itos and self._special_tokens == other._special_tokens

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens, special_tokens={list(self._special_tokens)!r})"

    # ------------------------------------------------------------------ files

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocab as JSON: {"format", "version", "tokens" (id order), "special_tokens"}."""
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "tokens": list(self._itos),
            "special_tokens": list(self._special_tokens),
        }
        with atomic_write(path, "w") as f:
            f.write(json.dumps(payload, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a file written by `save`, or a plain JSON object {token: id} such as the course's vocab dict."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, Mapping) and data.get("format") == _FORMAT:
            if data.get("version") != _VERSION:
                raise ValueError(
                    f"{path}: vocab format version {data.get('version')!r} is not supported (expected {_VERSION})"
                )
            return cls(data["tokens"], special_tokens=data.get("special_tokens", ()))
        if isinstance(data, Mapping):
            return cls.from_mapping(data)
        raise ValueError(f"{path} holds neither a minembed vocab nor a {{token: id}} JSON object")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, int], *, special_tokens: Sequence[str] = ()) -> Vocab:
        """A Vocab from {token: id} whose ids are exactly 0..n-1 (e.g. the course's `vocab` dict)."""
        ids = sorted(mapping.values())
        if ids != list(range(len(mapping))):
            raise ValueError(
                f"the ids of a {{token: id}} mapping must be exactly 0..{len(mapping) - 1} with no gaps or repeats"
            )
        tokens = [""] * len(mapping)
        for token, i in mapping.items():
            tokens[i] = token
        return cls(tokens, special_tokens=special_tokens)
