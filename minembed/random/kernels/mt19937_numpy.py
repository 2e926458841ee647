"""The mt19937 word stream as torch's CPU generator runs it (readable twin of `mt19937.py`).

Engine state: `key` (624,) uint32 and `cursor` (2,) int64 = [left, next], torch's own fields:
each draw first decrements `left`; when it reaches 0 the whole key is regenerated ("twisted")
and left = 624, next = 0; the word is then key[next] (next += 1), tempered.
After seeding, left = 1 and next = 0, so the first draw twists.
"""

from __future__ import annotations

import numpy as np

N = 624
M = 397
MATRIX_A = np.uint32(0x9908B0DF)
UPPER_MASK = np.uint32(0x80000000)
LOWER_MASK = np.uint32(0x7FFFFFFF)


def seed_key(seed32: int, key: np.ndarray, cursor: np.ndarray) -> None:
    """init_genrand: fill key from a 32-bit seed; cursor = [1, 0] so that the next draw twists."""
    value = seed32 & 0xFFFFFFFF
    key[0] = value
    for j in range(1, N):
        value = (1812433253 * (value ^ (value >> 30)) + j) & 0xFFFFFFFF
        key[j] = value
    cursor[0] = 1
    cursor[1] = 0


def _mix(upper: np.ndarray, lower: np.ndarray, far: np.ndarray) -> np.ndarray:
    y = (upper & UPPER_MASK) | (lower & LOWER_MASK)
    return far ^ (y >> np.uint32(1)) ^ np.where(y & np.uint32(1), MATRIX_A, np.uint32(0))


def twist(key: np.ndarray) -> None:
    """Regenerate all 624 words in place (three slices, because later words read new ones)."""
    key[: N - M] = _mix(key[: N - M], key[1 : N - M + 1], key[M:])
    # Words 227..622 read words 0..395, which the first slice has just renewed; in chunks of
    # at most 227 so that every word read is already new.
    for start in range(N - M, N - 1, N - M):
        stop = min(start + (N - M), N - 1)
        key[start:stop] = _mix(key[start:stop], key[start + 1 : stop + 1], key[start + M - N : stop + M - N])
    key[N - 1 :] = _mix(key[N - 1 :], key[:1], key[M - 1 : M])


def temper(y: np.ndarray) -> np.ndarray:
    y = y ^ (y >> np.uint32(11))
    y = y ^ ((y << np.uint32(7)) & np.uint32(0x9D2C5680))
    y = y ^ ((y << np.uint32(15)) & np.uint32(0xEFC60000))
    return y ^ (y >> np.uint32(18))


def fill_words(key: np.ndarray, cursor: np.ndarray, out: np.ndarray) -> None:
    """Draw out.size tempered 32-bit words (torch's `random()`) into out (uint32), in order."""
    done = 0
    while done < out.size:
        if cursor[0] == 1:  # the next draw would bring left to 0: twist first
            twist(key)
            cursor[0] = N + 1
            cursor[1] = 0
        take = min(out.size - done, int(cursor[0]) - 1)
        start = int(cursor[1])
        out[done : done + take] = temper(key[start : start + take])
        cursor[0] -= take
        cursor[1] += take
        done += take


def fill_words64(key: np.ndarray, cursor: np.ndarray, out: np.ndarray) -> None:
    """Draw out.size 64-bit values (torch's `random64()`: first word << 32 | second) into out (uint64)."""
    words = np.empty(2 * out.size, dtype=np.uint32)
    fill_words(key, cursor, words)
    out[:] = (words[0::2].astype(np.uint64) << np.uint64(32)) | words[1::2].astype(np.uint64)
