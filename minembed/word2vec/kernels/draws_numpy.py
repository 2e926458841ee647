"""Readable twin of draws.py: the same LCG on Python ints."""

from __future__ import annotations

import bisect

_MASK = (1 << 48) - 1


def advance(state: int) -> int:
    return (int(state) * 25214903917 + 11) & _MASK


def draw_below(state: int, bound: int) -> tuple[int, int]:
    return (int(state) >> 16) % int(bound), advance(state)


def window_around(state, i, window, shrink_windows, context_start, context_stop) -> tuple[int, int, int]:
    """(first, last, next state): centre i's context positions [first, last), the window shrunk by a draw."""
    reduced = 0
    if shrink_windows:
        reduced, state = draw_below(state, window)
    return max(context_start, i - window + reduced), min(context_stop, i + window + 1 - reduced), state


def draw_negative(state, cum_table, guide, guide_shift) -> tuple[int, int]:
    """The guide only speeds the kernel's search up; a plain bisect gives the same index."""
    x = (int(state) >> 16) % int(cum_table[-1])
    return bisect.bisect_left(cum_table.tolist(), x), advance(state)
