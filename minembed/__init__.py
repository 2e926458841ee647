"""minembed: the input side of a GPT-style model, from scratch in NumPy and Numba.

text -> tokens -> ids -> windows -> batches -> token + position embeddings, with hand-written
backward passes, mirrored against torch, tiktoken and rustbpe by property tests.
This package never imports torch or tiktoken.
"""
from minembed import nn
from minembed import tokenizers
from minembed.tokenizers.encoding import Encoding
from minembed.tokenizers.formats import load_encoding, load_tiktoken_bpe
from minembed.tokenizers.registry import get_encoding, list_encoding_names
from minembed.tokenizers.train import train_bpe
from minembed import data
from minembed.tokenizers.simple import SimpleTokenizer
from minembed.tokenizers.vocab import Vocab

__version__ = "0.1.0"

__all__ = [
    "nn",
    "__version__",
    "tokenizers",
    "Encoding",
    "get_encoding",
    "list_encoding_names",
    "train_bpe",
    "load_tiktoken_bpe",
    "load_encoding",
    "data",
    "SimpleTokenizer",
    "Vocab",
]
