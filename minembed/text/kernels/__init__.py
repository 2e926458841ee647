"""Numba kernels of the splitting unit: the matchers of the registered patterns, and the piece hash.

Each `x.py` holds `@njit(cache=True)` code only, beside its readable twin `x_numpy.py` with the
same signatures; the tests run both. Kernels trust their input (valid UTF-8, C-contiguous,
the right dtypes): the callers in `minembed.tokenizers` and `minembed.data` validate first.
"""
