"""The character-class table that the split matchers read: one uint16 of bits per code point.

Built with the `regex` module itself, so a matcher reading it agrees with `regex.findall` on
what a letter, a number or a space is. Bits (defined here and nowhere else):

    LETTER  \\p{L}      NUMBER  \\p{N}      SPACE  \\s
    bits 4-7            which contraction letter the character is, case-insensitively
                        (CONTRACTION_LETTERS "sdmtlver" -> 1..8, 0: none; "ſ" folds to s)
    UPPER   [\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]   and   LOWER  [\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]   (o200k's cases)

>>> table = char_classes()
>>> bool(table[ord("a")] & LETTER), bool(table[ord("٣")] & NUMBER), (table[ord("ſ")] >> FOLD_SHIFT) & FOLD_MASK
(True, True, np.uint16(1))
"""

from __future__ import annotations

import functools

import numpy as np
import regex

LETTER = 1  # \p{L}
NUMBER = 2  # \p{N}
SPACE = 4  # \s
FOLD_SHIFT = 4  # bits 4-7: which of CONTRACTION_LETTERS the character is, case-insensitively (0: none)
FOLD_MASK = 0xF
UPPER = 0x100  # [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
LOWER = 0x200  # [\p{Ll}\p{Lm}\p{Lo}\p{M}]
CONTRACTION_LETTERS = "sdmtlver"  # fold codes 1..8
N_CODE_POINTS = 0x110000  # entries of the table: every code point

_CLASS_PATTERNS = (
    (LETTER, r"\p{L}+"),
    (NUMBER, r"\p{N}+"),
    (SPACE, r"\s+"),
    (UPPER, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"),
    (LOWER, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"),
)


@functools.lru_cache(maxsize=1)
def char_classes() -> np.ndarray:
    """(0x110000,) uint16, read-only: the class bits of every code point, as the `regex` module sees them.

    Built in about 0.2 s, once per process.
    """
    code_points = np.arange(N_CODE_POINTS, dtype=np.uint32)
    code_points[0xD800:0xE000] = 0  # surrogates cannot occur in UTF-8 text
    every_char = code_points.tobytes().decode("utf-32-le")
    classes = np.zeros(N_CODE_POINTS, dtype=np.uint16)
    for flag, pat in _CLASS_PATTERNS:
        for m in regex.finditer(pat, every_char):
            classes[m.start() : m.end()] |= flag
    for code, letter in enumerate(CONTRACTION_LETTERS, start=1):
        for m in regex.finditer(f"(?i:{letter})", every_char):
            classes[m.start()] |= code << FOLD_SHIFT
    classes[0xD800:0xE000] = 0
    classes[0] = 0  # U+0000 is none of them (it stood in for the surrogates above)
    classes.flags.writeable = False
    return classes
