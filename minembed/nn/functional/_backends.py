"""Choosing between a Numba kernel module and its NumPy twin: `backend="numba"` or `"numpy"`."""

from __future__ import annotations

from types import ModuleType


def choose(kernels: ModuleType, twins: ModuleType, backend: str) -> ModuleType:
    """The kernel module for backend="numba", its NumPy twin for "numpy"; ValueError otherwise."""
    if backend == "numba":
        return kernels
    if backend == "numpy":
        return twins
    raise ValueError(f"backend must be 'numba' or 'numpy', got {backend!r}")
