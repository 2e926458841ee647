"""Numba kernels of the layers: embedding lookups and their backward passes, EmbeddingBag, RoPE.

Each `x.py` holds `@njit(cache=True)` code only, beside its readable twin `x_numpy.py` with
the same signatures; the tests run both. Kernels assume valid, C-contiguous, correctly typed
input: the functions in `minembed.nn.functional` validate first.
"""
