"""Element-wise optimizer kernels: Numba (`x.py`) beside its NumPy twin (`x_numpy.py`)."""
