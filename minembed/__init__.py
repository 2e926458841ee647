"""minembed: the input side of a GPT-style model, from scratch in NumPy and Numba.

text -> tokens -> ids -> windows -> batches -> token + position embeddings, with hand-written
backward passes, mirrored against torch, tiktoken and rustbpe by property tests.
This package never imports torch or tiktoken.
"""
from minembed import nn

__version__ = "0.1.0"

__all__ = ["nn", "__version__"]
