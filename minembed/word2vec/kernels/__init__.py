"""Word2Vec's hot loops: Numba kernels (x.py), each beside its readable twin (x_numpy.py).

steps:      one training step (skip-gram / CBOW, negative sampling / hierarchical softmax)
skipgram:   a whole batch of sentences for skip-gram (windows, negatives drawn inside)
cbow:       the same for CBOW
subsample:  the per-occurrence keep/drop draw
draws:      word2vec's LCG (window reductions, guided negative draws); tables: the sigmoid tables
"""
