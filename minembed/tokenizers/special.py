"""Special tokens in `encode`: which are allowed, which are forbidden, and where they are.

tiktoken's rules (SEMANTICS.md section 6): `allowed_special="all"` means every special token;
`disallowed_special="all"` means every special token that is not allowed. Disallowed text found
in the input raises ValueError; allowed special tokens are cut out of the text and emitted as
their ids, and the text between them is encoded as ordinary text.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Set
from typing import Literal

import regex

SpecialArg = Literal["all"] | Collection[str]


def _as_set(value: SpecialArg, name: str, everything: frozenset[str]) -> frozenset[str]:
    if value == "all":
        return everything
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name} must be 'all' or a collection of strings, got the string {value!r}; "
            f"wrap it in a set, e.g. {name}={{{value!r}}}"
        )
    try:
        result = frozenset(value)
    except TypeError:
        raise TypeError(
            f"{name} must be 'all' or a collection of strings, got {type(value).__name__}; "
            f"pass e.g. {name}={{'<|endoftext|>'}} or {name}=()"
        ) from None
    for item in result:
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold strings, got {item!r} ({type(item).__name__})")
    return result


def resolve_special(
    special_tokens: frozenset[str], allowed_special: SpecialArg, disallowed_special: SpecialArg
) -> tuple[frozenset[str], frozenset[str]]:
    """(allowed special tokens, disallowed strings) for one call to `encode`.

    Example: specials {"<|endoftext|>"}, allowed=set(), disallowed="all" -> (∅, {"<|endoftext|>"}).
    Allowed strings that are not special tokens are ignored, as in tiktoken; disallowed
    strings may be any text, and are searched for as given.
    """
    allowed = _as_set(allowed_special, "allowed_special", special_tokens)
    if disallowed_special == "all":
        disallowed = special_tokens - allowed
    else:
        disallowed = _as_set(disallowed_special, "disallowed_special", special_tokens)
    return allowed & special_tokens, disallowed


@functools.lru_cache(maxsize=128)
def literal_regex(strings: frozenset[str]) -> regex.Pattern:
    """A regex that finds any of `strings`; at one position the longest wins (deterministic)."""
    ordered = sorted(strings, key=lambda s: (-len(s), s))
    return regex.compile("|".join(regex.escape(s) for s in ordered))


def check_disallowed(text: str, disallowed: Set[str], special_tokens: Set[str]) -> None:
    """Raise ValueError naming the first disallowed string found in `text`, and how to proceed."""
    if not disallowed:
        return
    found = literal_regex(frozenset(disallowed)).search(text)
    if found is None:
        return
    token = found.group()
    others = "enc.special_tokens_set - {" + repr(token) + "}"
    raise ValueError(
        f"The text contains {token!r} (at character {found.start()}), which is a disallowed special token.\n"
        f"To encode it as the special token, allow it: `allowed_special={{{token!r}}}` "
        f"(or `allowed_special='all'`).\n"
        f"To encode it as ordinary text, stop checking for it: `disallowed_special={others}`, "
        f"or `disallowed_special=()` to check for no special token at all."
    )


def split_on_specials(text: str, allowed: frozenset[str]) -> list[tuple[str, str | None]]:
    """Cut text at allowed special tokens: [(ordinary text before, special or None), ...].

    Example: "a<|endoftext|>b" with allowed {"<|endoftext|>"} -> [("a", "<|endoftext|>"), ("b", None)].
    """
    if not allowed:
        return [(text, None)]
    chunks: list[tuple[str, str | None]] = []
    start = 0
    for match in literal_regex(allowed).finditer(text):
        chunks.append((text[start : match.start()], match.group()))
        start = match.end()
    chunks.append((text[start:], None))
    return chunks
