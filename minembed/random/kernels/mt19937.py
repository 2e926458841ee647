"""Numba kernels for the mt19937 word stream (torch's CPU generator); twin: `mt19937_numpy.py`.

Same engine fields as torch: key (624,) uint32, cursor (2,) int64 = [left, next]. The stream
is sequential, but only the twist is: tempering is independent per word. A block of 624 words
costs one twist (a short loop over the key) and 624 temperings written straight to `out`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

N = 624
M = 397


@njit(cache=True)
def seed_key(seed32, key, cursor):
    """init_genrand: fill key from a 32-bit seed; cursor = [1, 0] so that the next draw twists."""
    value = np.uint32(seed32 & 0xFFFFFFFF)
    key[0] = value
    for j in range(1, N):
        value = np.uint32(np.uint32(1812433253) * (value ^ (value >> np.uint32(30))) + np.uint32(j))
        key[j] = value
    cursor[0] = 1
    cursor[1] = 0


@njit(cache=True, inline="always")
def _mix(upper, lower, far):
    y = (upper & np.uint32(0x80000000)) | (lower & np.uint32(0x7FFFFFFF))
    mag = (np.uint32(0) - (y & np.uint32(1))) & np.uint32(0x9908B0DF)  # branch-free: vectorises
    return far ^ (y >> np.uint32(1)) ^ mag


@njit(cache=True)
def twist(key):
    """Regenerate all 624 words in place."""
    for k in range(N - M):
        key[k] = _mix(key[k], key[k + 1], key[k + M])
    for k in range(N - M, N - 1):
        key[k] = _mix(key[k], key[k + 1], key[k + M - N])
    key[N - 1] = _mix(key[N - 1], key[0], key[M - 1])


@njit(cache=True, inline="always")
def _temper(y):
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    return y ^ (y >> np.uint32(18))


@njit(cache=True)
def fill_words(key, cursor, out):
    """Draw out.size tempered 32-bit words (torch's `random()`) into out (uint32), in order."""
    done = 0
    while done < out.size:
        if cursor[0] == 1:  # the next draw would bring left to 0: twist first
            twist(key)
            cursor[0] = N + 1
            cursor[1] = 0
        take = min(out.size - done, cursor[0] - 1)
        start = cursor[1]
        for j in range(take):  # independent words: the compiler vectorises this loop
            out[done + j] = _temper(key[start + j])
        cursor[0] -= take
        cursor[1] += take
        done += take


@njit(cache=True)
def fill_words64(key, cursor, out):
    """Draw out.size 64-bit values (torch's `random64()`: first word << 32 | second) into out (uint64)."""
    pair = np.empty(2, dtype=np.uint32)
    for i in range(out.size):
        fill_words(key, cursor, pair)
        out[i] = (np.uint64(pair[0]) << np.uint64(32)) | np.uint64(pair[1])
