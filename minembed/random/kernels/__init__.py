"""Numba kernels of minembed.random, each beside its readable NumPy twin (`*_numpy.py`)."""

from minembed.kernels._cache import ensure_numba_cache_dir

ensure_numba_cache_dir()  # before any @njit(cache=True) here, as minembed.kernels does
