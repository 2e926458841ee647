"""Safe cut points: where a text may be cut so that its parts split into exactly the pieces of the whole.

A cut is safe when no piece of the split pattern can cross it and no match on either side
looks across it. Cutting long texts at such points lets BPE training count one huge text on
every thread, and `tokenize_files` encode a file chunk by chunk with the tokens of the whole.

- gpt2 / r50k, cl100k and o200k: just after a "\\n" that follows a non-space and precedes a
  letter ("word.\\nNext"), and just before a " " that follows a non-space and precedes a
  letter ("word| next").
  subtle: a "\\n" after other whitespace is NOT safe (gpt2 encodes "x\\n\\n" + "ay" differently
  from "x\\n\\nay": at the end of a part `\\s++$` takes the whole run), nor is a "\\n" before "/"
  under o200k (" ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*" glues ".\\n/" together).
- GPT-4 (no `\\s++$`): just after any "\\n" that precedes a letter. No piece holds a newline
  followed by a letter, and no match before such a newline looks past it.

The tests cut random texts at every point found and compare the pieces (and the tokens of
tiktoken) with those of the whole text.

>>> cuts = safe_cuts(GPT2_SPLIT_PATTERN)
>>> cuts.next_cut("one two", 0), cuts.last_cut("one two. Three\\nfour")
(3, 15)
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from minembed.text.patterns import (  # noqa: F401 (GPT2_SPLIT_PATTERN: for the doctest)
    CL100K,
    GPT2,
    GPT2_SPLIT_PATTERN,
    GPT4,
    O200K,
    pattern_id,
)

_NEWLINE_OR_SPACE_BEFORE_A_LETTER = r"(?<=\S\n)(?=\p{L})|(?<=\S)(?= \p{L})"
_NEWLINE_BEFORE_A_LETTER = r"(?<=\n)(?=\p{L})"


@dataclass(frozen=True)
class SafeCuts:
    """The safe cut points of one pattern, as a zero-width regex searched forwards or backwards."""

    pattern: regex.Pattern
    reverse: regex.Pattern
    lookbehind: int  # characters a cut looks back at: a search resumed this far back finds every cut

    def next_cut(self, text: str, start: int) -> int | None:
        """The first safe cut at or after `start`, or None."""
        match = self.pattern.search(text, start)
        return None if match is None else match.start()

    def last_cut(self, text: str, start: int = 0) -> int | None:
        """The last safe cut at or after `start`, or None."""
        match = self.reverse.search(text, start)
        return None if match is None else match.start()

    def is_cut(self, text: str, position: int) -> bool:
        """Whether `position` (0 <= position <= len(text)) is a safe cut of `text`."""
        return self.pattern.match(text, position) is not None


def _safe_cuts(expression: str, lookbehind: int) -> SafeCuts:
    return SafeCuts(regex.compile(expression), regex.compile(expression, flags=regex.REVERSE), lookbehind)


_SAFE_CUTS = {
    GPT2: _safe_cuts(_NEWLINE_OR_SPACE_BEFORE_A_LETTER, 2),
    CL100K: _safe_cuts(_NEWLINE_OR_SPACE_BEFORE_A_LETTER, 2),
    O200K: _safe_cuts(_NEWLINE_OR_SPACE_BEFORE_A_LETTER, 2),
    GPT4: _safe_cuts(_NEWLINE_BEFORE_A_LETTER, 1),
}


def safe_cuts(pat_str: str) -> SafeCuts | None:
    """The safe cut points of a registered pattern (by its exact text); None for any other pattern."""
    pattern = pattern_id(pat_str)
    return None if pattern is None else _SAFE_CUTS[pattern]
