"""minembed: the input side of a GPT-style model, from scratch in NumPy and Numba.

text -> tokens -> ids -> windows -> batches -> token + position embeddings, with hand-written
backward passes, mirrored against torch, tiktoken and rustbpe by property tests.
This package never imports torch or tiktoken.
"""
from minembed import nn
from minembed import data
from minembed.tokenizers.simple import SimpleTokenizer
from minembed.tokenizers.vocab import Vocab

__version__ = "0.1.0"

__all__ = ["nn", "__version__", "data", "SimpleTokenizer", "Vocab"]
