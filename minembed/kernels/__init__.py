"""Numba kernels: arrays in, arrays out, compiled once at import with `cache=True`.

Every module here holds `@njit` code only; each kernel has a plain NumPy twin with the same
signature in the matching `*_numpy.py` module, and the tests run both. Kernels assume valid,
C-contiguous, correctly typed input: the Python wrappers in `minembed.nn` and
`minembed.tokenizers` validate first.
"""
from minembed.kernels._cache import ensure_numba_cache_dir

ensure_numba_cache_dir()
