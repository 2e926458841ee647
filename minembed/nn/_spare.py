"""Reuse the memory of a dense gradient that zero_grad() dropped, when nobody else holds it.

A fresh (V, D) gradient costs a page fault for every page it touches, every step; refilling an
array that is already mapped is cheaper. But reusing an array the caller still holds (a saved
`g = emb.grad`, or a view of it) would silently change the caller's numbers, so the array is
only reused when this module holds the one and only reference to it.
"""
from __future__ import annotations

import sys

import numpy as np


class SpareArray:
    """One array kept for reuse; `take` hands it back only if no one else refers to it."""

    def __init__(self) -> None:
        self._array: np.ndarray | None = None

    def keep(self, array) -> None:
        """Remember array (anything that is not a plain ndarray is ignored)."""
        self._array = array if type(array) is np.ndarray else None

    def take(self, shape: tuple[int, ...], dtype) -> np.ndarray | None:
        """The kept array, if it has this shape and dtype and is unshared; else None. Forgets it."""
        array, self._array = self._array, None
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            return None
        # Two references when unshared: `array` here and getrefcount's own argument. A caller's
        # variable, a view (its .base) or a container would each add one.
        return array if sys.getrefcount(array) == 2 else None
