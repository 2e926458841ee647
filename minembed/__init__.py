"""minembed: the input side of a GPT-style model, from scratch in NumPy and Numba.

text -> tokens -> ids -> windows -> batches -> token + position embeddings, with hand-written
backward passes, mirrored against torch, tiktoken and rustbpe by property tests.
This package never imports torch or tiktoken.

The names below are loaded on first use (PEP 562), so `from minembed import train_bpe` loads
only what training needs, and Numba only when a kernel first runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_EXPORTS = {
    "nn": ("minembed.nn", None),
    "data": ("minembed.data", None),
    "tokenizers": ("minembed.tokenizers", None),
    "Encoding": ("minembed.tokenizers.encoding", "Encoding"),
    "get_encoding": ("minembed.tokenizers.registry", "get_encoding"),
    "list_encoding_names": ("minembed.tokenizers.registry", "list_encoding_names"),
    "load_encoding": ("minembed.tokenizers.formats", "load_encoding"),
    "load_tiktoken_bpe": ("minembed.tokenizers.formats", "load_tiktoken_bpe"),
    "train_bpe": ("minembed.tokenizers.train", "train_bpe"),
    "SimpleTokenizer": ("minembed.tokenizers.simple", "SimpleTokenizer"),
    "Vocab": ("minembed.tokenizers.vocab", "Vocab"),
    "random": ("minembed.random", None),
    "manual_seed": ("minembed.random.generator", "manual_seed"),
    "optim": ("minembed.optim", None),
    "models": ("minembed.models", None),
    "word2vec": ("minembed.word2vec", None),
    "Word2Vec": ("minembed.word2vec.model", "Word2Vec"),
}

__all__ = [
    "Encoding",
    "SimpleTokenizer",
    "Vocab",
    "Word2Vec",
    "__version__",
    "data",
    "get_encoding",
    "list_encoding_names",
    "load_encoding",
    "load_tiktoken_bpe",
    "manual_seed",
    "models",
    "nn",
    "optim",
    "random",
    "tokenizers",
    "train_bpe",
    "word2vec",
]


def __getattr__(name: str):
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'minembed' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs, which do not run __getattr__
    from minembed import data, models, nn, optim, random, tokenizers, word2vec
    from minembed.random.generator import manual_seed
    from minembed.tokenizers.encoding import Encoding
    from minembed.tokenizers.formats import load_encoding, load_tiktoken_bpe
    from minembed.tokenizers.registry import get_encoding, list_encoding_names
    from minembed.tokenizers.simple import SimpleTokenizer
    from minembed.tokenizers.train import train_bpe
    from minembed.tokenizers.vocab import Vocab
    from minembed.word2vec import Word2Vec
