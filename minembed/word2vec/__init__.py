"""Word2Vec (skip-gram and CBOW) on minembed.nn.Embedding tables, mirroring gensim 4.4.

>>> from minembed.word2vec import Word2Vec
>>> model = Word2Vec([["a", "b", "c"]] * 20, vector_size=4, min_count=1, epochs=1, workers=1)
>>> sorted(model.wv.index_to_key)
['a', 'b', 'c']
"""

from minembed.word2vec.io import load_word2vec_format, save_word2vec_format
from minembed.word2vec.keyed_vectors import KeyedVectors, UnknownWordError
from minembed.word2vec.model import Word2Vec

__all__ = ["KeyedVectors", "UnknownWordError", "Word2Vec", "load_word2vec_format", "save_word2vec_format"]
