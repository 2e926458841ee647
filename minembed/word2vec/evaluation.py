"""Word-similarity and analogy benchmarks with gensim's file formats and rules; statistics in NumPy.

Both consider only the restrict_vocab most frequent words; with case_insensitive, words are
compared upper-cased and an upper-cased form maps to its most frequent original spelling.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class WordPairsResult(NamedTuple):
    pearson: float  # Pearson correlation of model and human similarities
    spearman: float  # Spearman rank correlation
    oov_ratio: float  # % of pairs with a word outside the vocabulary (skipped)


def rank(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties getting their average rank (as scipy.stats.rankdata).

    >>> rank(np.array([10.0, 30.0, 20.0, 30.0])).tolist()
    [1.0, 3.5, 2.0, 3.5]
    """
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # start of each run of equal values, then the average rank of each run
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    average = (starts + ends + 1) / 2.0  # ranks are 1-based: mean of start+1 .. end
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def pearson(x, y) -> float:
    """Pearson's correlation coefficient of two equally long samples."""
    x = np.asarray(x, np.float64) - np.mean(x)
    y = np.asarray(y, np.float64) - np.mean(y)
    denominator = np.sqrt(np.dot(x, x) * np.dot(y, y))
    return float(np.dot(x, y) / denominator) if denominator > 0 else float("nan")


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's on average ranks."""
    return pearson(rank(x), rank(y))


def _allowed_vocab(kv, restrict_vocab: int, case_insensitive: bool) -> dict:
    words = kv.index_to_key[:restrict_vocab]
    if case_insensitive:  # reversed: the most frequent spelling of an upper-cased form wins
        return {word.upper(): kv.key_to_index[word] for word in reversed(words)}
    return {word: kv.key_to_index[word] for word in reversed(words)}


def _unit_rows(kv, indices) -> np.ndarray:
    kv.fill_norms()
    return kv.vectors[indices] / kv.norms[indices][:, None]


def evaluate_word_pairs(
    kv, path, delimiter="\t", restrict_vocab=300000, case_insensitive=True, dummy4unknown=False
) -> WordPairsResult:
    allowed = _allowed_vocab(kv, restrict_vocab, case_insensitive)
    gold, model, oov = [], [], 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line or line.startswith("#"):
                continue
            try:
                a, b, value = (w.upper() if case_insensitive else w for w in line.split(delimiter))
                value = float(value)
            except (ValueError, TypeError):
                continue  # gensim skips malformed lines too
            if a not in allowed or b not in allowed:
                oov += 1
                if dummy4unknown:
                    gold.append(value)
                    model.append(0.0)
                continue
            gold.append(value)
            va, vb = kv.vectors[allowed[a]], kv.vectors[allowed[b]]
            model.append(float(np.dot(va / np.linalg.norm(va), vb / np.linalg.norm(vb))))
    if len(gold) < 2:
        raise ValueError(
            f"{path}: fewer than two word pairs have both words in the vocabulary; train on more text "
            "or lower min_count"
        )
    oov_ratio = oov / len(gold) * 100 if dummy4unknown else oov / (len(gold) + oov) * 100
    return WordPairsResult(pearson(gold, model), spearman(gold, model), float(oov_ratio))


def _read_analogies(path, case_insensitive):
    sections, section = [], None
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if line.startswith(": "):
                if section:
                    sections.append(section)
                section = {"section": line.lstrip(": ").strip(), "questions": []}
                continue
            if section is None:
                raise ValueError(f"{path}: line {number + 1} comes before any ': section' header")
            words = line.split()
            if len(words) != 4:
                continue  # gensim skips malformed lines
            section["questions"].append(tuple(w.upper() if case_insensitive else w for w in words))
    if section:
        sections.append(section)
    return sections


def evaluate_word_analogies(kv, path, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False):
    """(accuracy, sections): each section a dict with 'section', 'correct' and 'incorrect' lists of
    (a, b, c, expected); the last one is 'Total accuracy'. a: b :: c: ? is answered by the word
    nearest to unit(b) - unit(a) + unit(c), the three question words excluded (3CosAdd)."""
    allowed = _allowed_vocab(kv, restrict_vocab, case_insensitive)
    end = min(restrict_vocab, len(kv))
    kv.fill_norms()
    table = kv.vectors[:end]
    norms = kv.norms[:end]
    results, oov, asked = [], 0, 0
    for section in _read_analogies(path, case_insensitive):
        correct, incorrect, known = [], [], []
        for question in section["questions"]:
            asked += 1
            if all(word in allowed for word in question):
                known.append(question)
            else:
                oov += 1
                if dummy4unknown:
                    incorrect.append(question)
        for start in range(0, len(known), 512):  # a block of questions in one matrix product
            block = known[start : start + 512]
            index = np.array([[allowed[w] for w in q[:3]] for q in block], dtype=np.int64)  # (B, 3): a, b, c
            units = _unit_rows(kv, index.ravel()).reshape(len(block), 3, -1)
            means = np.zeros((len(block), kv.vector_size), np.float32)
            for column, weight in ((1, 1.0), (2, 1.0), (0, -1.0)):  # gensim adds b, c, then subtracts a
                means += weight * units[:, column]
            means = means / 3.0
            means = (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)
            similarities = (table @ means.T).T / norms  # (B, end)
            for row, question in enumerate(block):
                ignore = set(question[:3])
                excluded = set(index[row].tolist())
                top = np.argpartition(-similarities[row], min(7, end - 1))[:8]
                top = top[np.argsort(-similarities[row][top], kind="stable")]
                candidates = [i for i in top if i not in excluded][:5]
                predicted = None
                for i in candidates:
                    predicted = kv.index_to_key[i].upper() if case_insensitive else kv.index_to_key[i]
                    if predicted in allowed and predicted not in ignore:
                        break
                (correct if predicted == question[3] else incorrect).append(question)
        results.append({"section": section["section"], "correct": correct, "incorrect": incorrect})
    total_correct = [q for s in results for q in s["correct"]]
    total_incorrect = [q for s in results for q in s["incorrect"]]
    results.append({"section": "Total accuracy", "correct": total_correct, "incorrect": total_incorrect})
    answered = len(total_correct) + len(total_incorrect)
    accuracy = len(total_correct) / answered if answered else 0.0
    return accuracy, results
