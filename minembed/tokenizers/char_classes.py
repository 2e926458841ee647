"""The bit layout of the character-class table that the hand-written split kernels read.

One entry per code point (built with the `regex` module by `pretokenize.gpt4_classes`):
bits 0-2 say letter / number / space, bits 4-7 which contraction letter the character is,
case-insensitively. Kept apart from the kernels so that it can be read without Numba.
"""

LETTER = 1  # \p{L}
NUMBER = 2  # \p{N}
SPACE = 4  # \s
# Bits 4-7: which letter of a contraction the code point is, case-insensitively (0: none).
FOLD_SHIFT = 4
CONTRACTION_LETTERS = "sdmtlver"  # codes 1..8
