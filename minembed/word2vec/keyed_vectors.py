"""KeyedVectors: trained word vectors with gensim's query semantics (cosine similarity).

vectors (V, D) float32 (a view of the model's input table while training), index_to_key
(words by descending count), key_to_index, counts. Queries raise UnknownWordError (a KeyError)
for a word outside the vocabulary instead of ignoring it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class UnknownWordError(KeyError):
    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def _unit(vector: np.ndarray) -> np.ndarray:
    """vector / its L2 norm, kept in its dtype (gensim's matutils.unitvec); zero stays zero."""
    norm = np.linalg.norm(vector)
    return (vector * (1.0 / norm)).astype(vector.dtype) if norm > 0 else vector


class KeyedVectors:
    """Word -> vector lookups and similarity queries.

    >>> kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [1, 1], [0, 1]], np.float32))
    >>> kv.most_similar("a", topn=1)
    [('b', 0.7071067690849304)]
    """

    def __init__(self, words: Sequence, vectors: np.ndarray, counts: np.ndarray | None = None) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"vectors must be (len(words), dim) = ({len(words)}, dim), got {vectors.shape}")
        self.index_to_key = list(words)
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("words must be distinct")
        self.vectors = vectors
        self.counts = (
            np.asarray(counts, np.int64) if counts is not None else np.arange(len(words), 0, -1, dtype=np.int64)
        )
        self.norms: np.ndarray | None = None

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return key in self.key_to_index

    def get_index(self, key) -> int:
        try:
            return self.key_to_index[key]
        except (KeyError, TypeError):
            raise UnknownWordError(
                f"word {key!r} is not in the vocabulary ({len(self)} words): check its spelling and case, or "
                "train with a lower min_count / on text that contains it"
            ) from None

    def __getitem__(self, key) -> np.ndarray:
        return self.vectors[self.get_index(key)]

    def fill_norms(self, force: bool = False) -> None:
        if self.norms is None or force:
            self.norms = np.linalg.norm(self.vectors, axis=1)

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        index = self.get_index(key)
        if norm:
            self.fill_norms()
            return self.vectors[index] / self.norms[index]
        return self.vectors[index]

    def _mean_unit(self, keys: list, weights: np.ndarray) -> np.ndarray:
        """The weighted mean of the keys' unit vectors (or given vectors), normalised, float32."""
        mean = np.zeros(self.vector_size, self.vectors.dtype)
        total = np.float64(0.0)
        for key, weight in zip(keys, weights):
            vector = key if isinstance(key, np.ndarray) else self.get_vector(key, norm=True)
            mean += weight * vector
            total += abs(weight)
        if total > 0:
            mean = mean / total
        return _unit(mean).astype(np.float32)

    def most_similar(self, positive=(), negative=(), topn: int | None = 10, restrict_vocab: int | None = None):
        """The topn words nearest (cosine) to mean(positive) - mean(negative) of unit vectors, as
        [(word, similarity)], the query words left out. positive/negative: a word, a vector, or a list
        of words, vectors or (word, weight) pairs. topn=None returns all similarities (V,)."""
        positive = (
            [positive]
            if isinstance(positive, (str, np.ndarray)) or not isinstance(positive, Sequence)
            else list(positive)
        )
        negative = (
            [negative]
            if isinstance(negative, (str, np.ndarray)) or not isinstance(negative, Sequence)
            else list(negative)
        )
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        if topn is not None and topn < 1:
            return []
        self.fill_norms()
        keys, weights = [], np.concatenate([np.ones(len(positive)), -np.ones(len(negative))])
        for i, item in enumerate(positive + negative):
            if isinstance(item, tuple):
                keys.append(item[0])
                weights[i] = item[1]
            else:
                keys.append(item)
        mean = self._mean_unit(keys, weights)
        exclude = {self.get_index(key) for key in keys if not isinstance(key, np.ndarray)}
        end = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        similarities = (self.vectors[:end] @ mean) / self.norms[:end]
        if topn is None:
            return similarities
        candidates = min(topn + len(exclude), end)
        best = np.argpartition(-similarities, candidates - 1)[:candidates] if candidates < end else np.arange(end)
        best = best[np.argsort(-similarities[best], kind="stable")]
        result = [(self.index_to_key[i], float(similarities[i])) for i in best if i not in exclude]
        return result[:topn]

    def similarity(self, word1, word2) -> float:
        """Cosine similarity of two words' vectors."""
        return float(np.dot(_unit(self[word1]), _unit(self[word2])))

    def doesnt_match(self, words: Sequence) -> str:
        """The word farthest from the mean of the words' unit vectors."""
        words = list(words)
        if not words:
            raise ValueError("doesnt_match needs a non-empty list of words")
        vectors = np.vstack([self.get_vector(word, norm=True) for word in words]).astype(np.float32)
        mean = self._mean_unit(list(vectors), np.ones(len(words)))
        return min(zip((vectors @ mean).tolist(), words))[1]

    def evaluate_word_pairs(
        self,
        path,
        delimiter: str = "\t",
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ):
        """Spearman and Pearson correlation with human similarity judgements (gensim's file format
        and rules); returns WordPairsResult(pearson, spearman, oov_ratio %)."""
        from minembed.word2vec.evaluation import evaluate_word_pairs

        return evaluate_word_pairs(self, path, delimiter, restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_analogies(
        self, path, restrict_vocab: int = 300000, case_insensitive: bool = True, dummy4unknown: bool = False
    ):
        """Accuracy on a: b :: c: d questions (questions-words.txt format) by 3CosAdd over the
        restrict_vocab most frequent words; returns (accuracy, sections) as gensim does."""
        from minembed.word2vec.evaluation import evaluate_word_analogies

        return evaluate_word_analogies(self, path, restrict_vocab, case_insensitive, dummy4unknown)

    def save_word2vec_format(self, path, binary: bool = False) -> None:
        """Write word2vec's text or binary format (readable by gensim and word2vec.c), atomically."""
        from minembed.word2vec.io import save_word2vec_format

        save_word2vec_format(self, path, binary=binary)

    @classmethod
    def load_word2vec_format(cls, path, binary: bool = False) -> KeyedVectors:
        from minembed.word2vec.io import load_word2vec_format

        return load_word2vec_format(path, binary=binary)

    def project_2d(self, words: Sequence) -> np.ndarray:
        """(len(words), 2) float64 coordinates: the words' vectors on their first two principal axes."""
        from minembed.word2vec.projection import project_2d

        return project_2d(np.vstack([self[word] for word in words]))

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, vector_size={self.vector_size})"
