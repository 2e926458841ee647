"""Numba kernels of minembed.random, each beside its readable NumPy twin (`*_numpy.py`)."""
