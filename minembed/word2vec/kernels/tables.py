"""The sigmoid and log-sigmoid tables and the random generator word2vec.c and gensim share.

EXP_TABLE[i] = sigmoid(x) at x = (i / 1000 * 2 - 1) * 6, float32, 1000 entries over [-6, 6);
a score f_dot is looked up at int((f_dot + 6) * 83) (83 = 1000 // 6 // 2, C integer division,
as both references compute it). Scores outside (-6, 6) are skipped, as gensim does.
"""

from __future__ import annotations

import numpy as np

EXP_TABLE_SIZE = 1000
MAX_EXP = 6
# (EXP_TABLE_SIZE / MAX_EXP / 2) evaluated with C integer division, as in both references.
TABLE_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2

# word2vec.c's linear congruential generator (Java's), 48-bit state.
LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)
LCG_MASK = np.uint64((1 << 48) - 1)


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """(EXP_TABLE, LOG_TABLE), each (1000,) float32: sigmoid and log(sigmoid) on the grid above.

    >>> exp_table, log_table = sigmoid_tables()
    >>> round(float(exp_table[500]), 3), exp_table.dtype
    (0.5, dtype('float32'))
    """
    grid = (np.arange(EXP_TABLE_SIZE, dtype=np.float32) / np.float32(EXP_TABLE_SIZE) * np.float32(2) - 1) * MAX_EXP
    exp = np.exp(grid.astype(np.float64)).astype(np.float32)
    exp_table = exp / (exp + np.float32(1))
    log_table = np.log(exp_table.astype(np.float64)).astype(np.float32)
    return exp_table, log_table


def batch_seed(seed: int, epoch: int, batch: int) -> int:
    """The LCG state a batch starts from: a fixed mix of (seed, epoch, batch number), 48 bits.

    Each batch draws from its own stream, so what a batch draws does not depend on which
    thread runs it or when (only the Hogwild interleaving of updates does).
    """
    state = (seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + batch * 0x94D049BB133111EB + 1) % (1 << 64)
    for _ in range(2):  # splitmix64's finaliser, to spread nearby inputs apart
        state ^= state >> 31
        state = (state * 0xBF58476D1CE4E5B9) % (1 << 64)
    return state & ((1 << 48) - 1)
