"""The split patterns (regex syntax of the `regex` module), their registry, and special tokens.

These strings are public facts about each encoding: the text is first cut into pieces by the
pattern, and BPE then runs inside each piece, never across two. A pattern registered in
`PATTERN_IDS` has a hand-written Numba matcher (`minembed.text.kernels.split`), used by
encoding, BPE training and `tokenize_files`; any other pattern runs on the `regex` module.
A pattern is recognised by its exact text, never by an encoding's name.

>>> pattern_id(GPT4_SPLIT_PATTERN) == GPT4, pattern_id(r"\\w+")
(True, None)
"""

from __future__ import annotations

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# GPT-2 / r50k_base: contractions, letters, numbers, punctuation runs, whitespace.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

# cl100k_base (GPT-3.5/4): case-insensitive contractions, numbers in groups of at most three,
# newlines kept apart from other whitespace.
CL100K_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

# o200k_base (GPT-4o): also splits CamelCase words and attaches contractions to the word.
O200K_SPLIT_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# The GPT-4 style pattern that rustbpe trains with by default (cl100k's, without the
# possessive quantifiers on letters and digits and with `\s+` as the last branch).
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)


# Matcher ids of the registered patterns (0 is never used: it would mean "no matcher").
# To add a pattern: its text here, an id, a matcher in kernels/split.py, its safe cut points
# in cuts.py, and its tests in tests/test_split.py.
GPT2 = 1  # gpt2 and r50k_base
CL100K = 2
O200K = 3
GPT4 = 4  # rustbpe's default training pattern

PATTERN_IDS = {
    GPT2_SPLIT_PATTERN: GPT2,
    CL100K_SPLIT_PATTERN: CL100K,
    O200K_SPLIT_PATTERN: O200K,
    GPT4_SPLIT_PATTERN: GPT4,
}
PATTERNS = {pattern_id: pattern for pattern, pattern_id in PATTERN_IDS.items()}


def pattern_id(pat_str: str) -> int | None:
    """The matcher id of `pat_str` if it is, character for character, a registered pattern; else None."""
    return PATTERN_IDS.get(pat_str)
