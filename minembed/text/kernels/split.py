"""Numba kernels: split UTF-8 text with a registered pattern (gpt2, cl100k_base, o200k_base, GPT-4).

Each pattern is a fixed alternation, matched here by hand exactly as a backtracking regex
engine runs it: alternatives are tried in order and the FIRST one that matches wins (not the
longest); possessive parts (`++`, `?+`) never give characters back, greedy ones do.

gpt2 / r50k_base (`GPT2_SPLIT_PATTERN`, case-sensitive ASCII contractions)
    1 '(?:[sdmt]|ll|ve|re)   2  ?\\p{L}++   3  ?\\p{N}++   4  ?[^\\s\\p{L}\\p{N}]++
    5 \\s++$   6 \\s+(?!\\S)   7 \\s
cl100k_base (`CL100K_SPLIT_PATTERN`)
    1 '(?i:[sdmt]|ll|ve|re)   2 [^\\r\\n\\p{L}\\p{N}]?+\\p{L}++   3 \\p{N}{1,3}+
    4  ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+   5 \\s++$   6 \\s*[\\r\\n]   7 \\s+(?!\\S)   8 \\s
GPT-4, rustbpe's training default (`GPT4_SPLIT_PATTERN`): cl100k's alternatives 1-4 (without
    the possessive marks, which change nothing there: nothing follows them in their branch),
    then 5 \\s*[\\r\\n]   6 \\s+(?!\\S)   7 \\s+ -- so the same matcher, with no `\\s++$`.
o200k_base (`O200K_SPLIT_PATTERN`; U = [\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}], W = [\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}],
P = [^\\r\\n\\p{L}\\p{N}], C = (?i:'s|'t|'re|'ve|'m|'ll|'d))
    1 P?U*W+C?   2 P?U+W*C?   3 \\p{N}{1,3}   4  ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*   5 \\s*[\\r\\n]+
    6 \\s+(?!\\S)   7 \\s+

Whitespace rules, read off the backtracking: on a maximal whitespace run [i, k),
`\\s++$` takes it all only if k is the end of the text (`$` could also match before a final
"\\n", but the possessive run has eaten that "\\n"); `\\s*[\\r\\n]` (and `\\s*[\\r\\n]+`) ends
right after the LAST newline of the run; `\\s+(?!\\S)` gives back the run's last character
when a non-space follows (and fails on a run of one).

Character classes come from `minembed.text.classes.char_classes()` (one uint16 per code
point, built with the `regex` module itself). Every character is a letter, a number, a space
or "other", so some alternative always matches and the pieces tile the text.
Twin: `split_numpy.py` (same signatures, `regex.findall`).

Performance notes (2 shared cores, the shared corpora, single-threaded):
splitting runs at 140-200 MB/s for each pattern, against 5-18 MB/s for the `regex` module's
findall on the same text (which was 60-70% of minembed's encode time). How the code is laid
out follows from measurements:
- Each matcher is inlined (`inline="always"`) into `split_chunk`, once per pattern, so the
  pattern is chosen once per chunk, not per piece. Calling the matcher per piece instead
  halved the speed. The cl100k and GPT-4 loops inline the same matcher with a constant flag.
- Loops are written out inside the matchers: a helper holding a loop ran 3x slower, whether
  called or inlined by Numba. Small loop-free helpers (`_class_at`, `_contraction_end`) are
  plain functions, which cost nothing measurable and keep the first compile at ~6 s
  (inlining everything: 13 s for this module, 20 s with the encoder).
- ASCII text only touches the first 128 entries of the class table, which stay in L1.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.text.classes import FOLD_MASK, FOLD_SHIFT, LETTER, LOWER, NUMBER, SPACE, UPPER
from minembed.text.patterns import CL100K, GPT2, GPT4

_APOSTROPHE = 39
_SPACE_CHAR = 32
_LF = 10
_CR = 13


@njit(cache=True, inline="always")
def _decode(data, i):
    """(code point, byte length) of the UTF-8 character that starts at data[i] (valid UTF-8)."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (
        ((b0 & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (np.int64(data[i + 3]) & 0x3F)
    ), 4


@njit(cache=True)
def _fold(data, i, end, classes):
    """(contraction-letter code 1..8 or 0, byte length) of the character at data[i]; (0, 0) at the end."""
    if i >= end:
        return 0, 0
    cp, n = _decode(data, i)
    return (classes[cp] >> FOLD_SHIFT) & FOLD_MASK, n


@njit(cache=True)
def _contraction_end(data, i, end, classes):
    """End of '(?i:[sdmt]|ll|ve|re) at data[i] (an apostrophe), or -1 if it does not match."""
    code, n1 = _fold(data, i + 1, end, classes)
    if 1 <= code <= 4:  # s d m t
        return i + 1 + n1
    if code == 5 or code == 6 or code == 8:  # l(l) v(e) r(e)
        code2, n2 = _fold(data, i + 1 + n1, end, classes)
        if (code == 5 and code2 == 5) or (code != 5 and code2 == 7):
            return i + 1 + n1 + n2
    return -1


@njit(cache=True)
def _class_at(data, k, classes):
    """(class bits, byte length) of the UTF-8 character at data[k] (valid UTF-8)."""
    b0 = np.int64(data[k])
    if b0 < 0x80:
        return classes[b0], 1
    if b0 < 0xE0:
        return classes[((b0 & 0x1F) << 6) | (np.int64(data[k + 1]) & 0x3F)], 2
    if b0 < 0xF0:
        return classes[((b0 & 0x0F) << 12) | ((np.int64(data[k + 1]) & 0x3F) << 6) | (np.int64(data[k + 2]) & 0x3F)], 3
    cp = ((b0 & 0x07) << 18) | ((np.int64(data[k + 1]) & 0x3F) << 12) | ((np.int64(data[k + 2]) & 0x3F) << 6)
    return classes[cp | (np.int64(data[k + 3]) & 0x3F)], 4


# subtle (measured): the runs below are written out in each matcher. Small loop-free helpers
# such as _class_at are plain functions (LLVM inlines them); a helper that holds a loop was
# 3x slower both when called and when inlined by Numba, and inlining every helper made the
# first compile take 20 s instead of 6.


# ---------------------------------------------------------------- gpt2 / r50k_base


@njit(cache=True, inline="always")
def _match_gpt2(data, i, end, classes):
    """End of the GPT2_SPLIT_PATTERN match that starts at data[i]."""
    # 1: '(?:[sdmt]|ll|ve|re) -- case-sensitive, so plain ASCII bytes
    if data[i] == _APOSTROPHE and i + 1 < end:
        b1 = data[i + 1]
        if b1 == 115 or b1 == 100 or b1 == 109 or b1 == 116:  # s d m t
            return i + 2
        if i + 2 < end:
            b2 = data[i + 2]
            if (b1 == 108 and b2 == 108) or (b2 == 101 and (b1 == 118 or b1 == 114)):  # ll ve re
                return i + 3
    cls, _ = _class_at(data, i, classes)
    # 2-4:  ?\p{L}++ |  ?\p{N}++ |  ?[^\s\p{L}\p{N}]++ -- a space joins the run after it,
    # whatever its kind (else ` ?` gives the space back and the alternative fails at i).
    j = i
    if data[i] == _SPACE_CHAR and i + 1 < end:
        cls1, _ = _class_at(data, i + 1, classes)
        if (cls1 & SPACE) == 0:
            j = i + 1
            cls = cls1
    if (cls & SPACE) == 0:
        kind = cls & (LETTER | NUMBER)  # 0 for [^\s\p{L}\p{N}]
        k = j
        while k < end:
            cl, m = _class_at(data, k, classes)
            if (cl & (SPACE | LETTER | NUMBER)) != kind:
                break
            k += m
        return k
    # 5-7 on the whitespace run [i, k)
    k = i
    last_start = i
    while k < end:
        cl, m = _class_at(data, k, classes)
        if (cl & SPACE) == 0:
            break
        last_start = k
        k += m
    if k == end:  # 5: \s++$
        return k
    if last_start > i:  # 6: \s+(?!\S) gives back the last space
        return last_start
    return k  # 7: \s (a run of one)


# ---------------------------------------------------------------- cl100k_base and GPT-4


@njit(cache=True, inline="always")
def _match_cl100k(data, i, end, classes, run_to_text_end):
    """End of the CL100K_SPLIT_PATTERN match (run_to_text_end=True) or GPT4_SPLIT_PATTERN match at data[i].

    The two differ only in cl100k's `\\s++$`, tried before `\\s*[\\r\\n]`: a whitespace run
    that reaches the end of the text is one piece there, while GPT-4 still cuts it after its
    last newline. Callers pass a constant, so the test folds away.
    """
    cp, n = _decode(data, i)
    cls = classes[cp]
    # 1: '(?i:[sdmt]|ll|ve|re)
    if cp == _APOSTROPHE:
        k = _contraction_end(data, i, end, classes)
        if k >= 0:
            return k
    # 2: [^\r\n\p{L}\p{N}]?+\p{L}++ (the optional character is never given back)
    j = i
    if (cls & (LETTER | NUMBER)) == 0 and cp != _LF and cp != _CR:
        j = i + n
    k = j
    while k < end:
        cl, m = _class_at(data, k, classes)
        if (cl & LETTER) == 0:
            break
        k += m
    if k > j:
        return k
    # 3: \p{N}{1,3}+
    if cls & NUMBER:
        k = i + n
        for _ in range(2):
            if k >= end:
                break
            cl, m = _class_at(data, k, classes)
            if (cl & NUMBER) == 0:
                break
            k += m
        return k
    # 4:  ?[^\s\p{L}\p{N}]++[\r\n]*+
    j = i + 1 if cp == _SPACE_CHAR else i
    k = j
    while k < end:
        cl, m = _class_at(data, k, classes)
        if cl & (SPACE | LETTER | NUMBER):
            break
        k += m
    if k > j:
        while k < end and (data[k] == _LF or data[k] == _CR):
            k += 1
        return k
    # 5-8 on the whitespace run [i, k)
    k = i
    last_start = i
    last_newline = -1
    while k < end:
        cl, m = _class_at(data, k, classes)
        if (cl & SPACE) == 0:
            break
        if data[k] == _LF or data[k] == _CR:
            last_newline = k
        last_start = k
        k += m
    if run_to_text_end and k == end:  # cl100k 5: \s++$
        return k
    if last_newline >= 0:  # cl100k 6, GPT-4 5: \s*[\r\n], up to the run's last newline
        return last_newline + 1
    if k == end:  # GPT-4 6: at the end of the text nothing non-space follows
        return k
    if last_start > i:  # cl100k 7, GPT-4 6: \s+(?!\S) gives back the last space
        return last_start
    return k  # cl100k 8: \s, GPT-4 7: \s+ (a run of one here)


# ---------------------------------------------------------------- o200k_base


@njit(cache=True, inline="always")
def _match_o200k(data, i, end, classes):
    """End of the O200K_SPLIT_PATTERN match that starts at data[i]."""
    cp, n = _decode(data, i)
    cls = classes[cp]
    # 1 P?U*W+C? and 2 P?U+W*C?. From a start j, U* first takes the whole U run; if W+
    # cannot follow, U* gives characters back until W+ can: at the run's last character
    # that is also in W (Lm, Lo, M are in both), W+ then ending right after it. If that
    # fails too, alternative 2 takes the U run alone (W* is empty, as W+ just failed).
    # P? is greedy, not possessive: j = i + n first, then j = i -- which can only matter
    # when the character at i is a mark (in P and in U and W), whose alternative 1 at j = i
    # always matches and comes before alternative 2 at j = i + n.
    has_prefix = (cls & (LETTER | NUMBER)) == 0 and cp != _LF and cp != _CR
    j = i + n if has_prefix else i
    while True:
        k = j
        last_in_both = -1
        while k < end:
            cl, m = _class_at(data, k, classes)
            if (cl & UPPER) == 0:
                break
            k += m
            if cl & LOWER:
                last_in_both = k
        upper_end = k
        word_end = -1
        if k < end:
            cl, m = _class_at(data, k, classes)
            if cl & LOWER:  # W+ right after the U run
                k += m
                while k < end:
                    cl, m = _class_at(data, k, classes)
                    if (cl & LOWER) == 0:
                        break
                    k += m
                word_end = k
        if word_end < 0:
            word_end = last_in_both
        if word_end < 0 and j > i and (cls & UPPER):
            j = i  # a mark at i: alternative 1 without the prefix
            continue
        if word_end < 0 and upper_end > j:
            word_end = upper_end  # alternative 2
        break
    if word_end >= 0:
        # (?i:'s|'t|'re|'ve|'m|'ll|'d)? -- the same letters as cl100k's contractions
        if word_end < end and data[word_end] == _APOSTROPHE:
            k = _contraction_end(data, word_end, end, classes)
            if k >= 0:
                return k
        return word_end
    # 3: \p{N}{1,3}
    if cls & NUMBER:
        k = i + n
        for _ in range(2):
            if k >= end:
                break
            cl, m = _class_at(data, k, classes)
            if (cl & NUMBER) == 0:
                break
            k += m
        return k
    # 4:  ?[^\s\p{L}\p{N}]+[\r\n/]* -- the trailing part cannot fail, so no backtracking
    j = i + 1 if cp == _SPACE_CHAR else i
    k = j
    while k < end:
        cl, m = _class_at(data, k, classes)
        if cl & (SPACE | LETTER | NUMBER):
            break
        k += m
    if k > j:
        while k < end and (data[k] == _LF or data[k] == _CR or data[k] == 47):  # "/"
            k += 1
        return k
    # 5-7 on the whitespace run [i, k)
    k = i
    last_start = i
    last_newline = -1
    while k < end:
        cl, m = _class_at(data, k, classes)
        if (cl & SPACE) == 0:
            break
        if data[k] == _LF or data[k] == _CR:
            last_newline = k
        last_start = k
        k += m
    if last_newline >= 0:  # 5: \s*[\r\n]+, up to the run's last newline
        return last_newline + 1
    if k == end:  # 6: nothing non-space follows at the end
        return k
    if last_start > i:  # 6: give back the last space
        return last_start
    return k  # 7: \s+ (a run of one here)


# ---------------------------------------------------------------- drivers


@njit(cache=True, nogil=True)
def split_chunk(pattern, data, i, end, classes, piece_ends, max_pieces):
    """Split data[i:end] with `pattern` into at most `max_pieces` pieces; returns how many.

    Their end offsets go to piece_ends[:count]; the last one is where to continue. The
    matchers are inlined here, and only here: one loop per pattern, no branch per piece.
    """
    k = 0
    if pattern == GPT2:
        while k < max_pieces and i < end:
            i = _match_gpt2(data, i, end, classes)
            piece_ends[k] = i
            k += 1
    elif pattern == CL100K:
        while k < max_pieces and i < end:
            i = _match_cl100k(data, i, end, classes, True)
            piece_ends[k] = i
            k += 1
    elif pattern == GPT4:
        while k < max_pieces and i < end:
            i = _match_cl100k(data, i, end, classes, False)
            piece_ends[k] = i
            k += 1
    else:  # O200K
        while k < max_pieces and i < end:
            i = _match_o200k(data, i, end, classes)
            piece_ends[k] = i
            k += 1
    return k


@njit(cache=True, nogil=True)
def split_pieces(pattern, data, text_ends, classes, piece_ends):
    """Cut UTF-8 `data` (N,) uint8, texts ending at `text_ends` (K,) int64, with `pattern`.

    Writes the end offset of every piece to `piece_ends` (>= N,) int64 and returns how many;
    pieces never cross a text end, and they tile the data.
    """
    n_pieces = 0
    start = 0
    for t in range(text_ends.shape[0]):
        end = text_ends[t]
        n_pieces += split_chunk(
            pattern, data, start, end, classes, piece_ends[n_pieces:], piece_ends.shape[0] - n_pieces
        )
        start = end
    return n_pieces
