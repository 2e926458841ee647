"""gensim 4.4 as the Word2Vec oracle: its vocabulary arrays, its query answers, its file formats.

Only this module (and the benchmarks) import gensim.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from gensim.test.utils import datapath

logging.getLogger("gensim").setLevel(logging.ERROR)

GENSIM_VERSION = __import__("gensim").__version__


def test_data(name: str) -> str:
    """Path of a file shipped in gensim's wheel: wordsim353.tsv, simlex999.txt, questions-words.txt."""
    return datapath(name)


def vocab_arrays(sentences, *, min_count=5, sample=1e-3, ns_exponent=0.75, hs=0, negative=5, max_vocab_size=None):
    """What gensim's build_vocab computes: words, counts, sample_int, cum_table, Huffman codes/points."""
    model = Word2Vec(
        min_count=min_count,
        sample=sample,
        ns_exponent=ns_exponent,
        hs=hs,
        negative=negative,
        max_vocab_size=max_vocab_size,
        workers=1,
    )
    model.build_vocab(sentences)
    wv = model.wv
    out = {
        "words": list(wv.index_to_key),
        "counts": np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key], np.int64),
        "sample_int": np.array([wv.get_vecattr(w, "sample_int") for w in wv.index_to_key], np.uint32),
        "cum_table": np.array(model.cum_table, np.uint32) if negative else None,
    }
    if hs:
        out["codes"] = [np.asarray(wv.get_vecattr(w, "code"), np.uint8).tolist() for w in wv.index_to_key]
        out["points"] = [np.asarray(wv.get_vecattr(w, "point"), np.int64).tolist() for w in wv.index_to_key]
    return out


def keyed_vectors(words, vectors) -> KeyedVectors:
    """A gensim KeyedVectors over the same words (same order) and float32 vectors."""
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(list(words), np.asarray(vectors, np.float32))
    return kv


def load(path, binary=False):
    """(words, vectors) as gensim reads a word2vec file."""
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    return list(kv.index_to_key), np.asarray(kv.vectors)


def save(words, vectors, path, binary=False) -> None:
    keyed_vectors(words, vectors).save_word2vec_format(str(path), binary=binary)


def word_pairs(kv: KeyedVectors, path):
    """(pearson r, spearman rho, oov %) from gensim's evaluate_word_pairs."""
    pearson, spearman, oov = kv.evaluate_word_pairs(path)
    return float(pearson[0]), float(spearman.statistic), float(oov)


def analogies(kv: KeyedVectors, path, restrict_vocab=300000):
    score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    return float(score), sections


def tokenize(text: str) -> list[str]:
    """The benchmark's tokenisation (the same for both libraries): lower-case runs of letters,
    with an inner apostrophe kept (e.g. "o'er")."""
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def corpus_sentences(paths) -> list[list[str]]:
    """One sentence per non-empty line of each file."""
    sentences = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            tokens = tokenize(line)
            if tokens:
                sentences.append(tokens)
    return sentences


def train(sentences, **params) -> Word2Vec:
    return Word2Vec(sentences, **params)
