"""Word2Vec's hot loops: Numba kernels (x.py), each beside its readable twin (x_numpy.py).

steps:      one training step (skip-gram / CBOW, negative sampling / hierarchical softmax)
skipgram:   a whole batch of sentences for skip-gram (windows, negatives drawn inside)
cbow:       the same for CBOW
subsample:  the per-occurrence keep/drop draw
draws:      word2vec's LCG (window reductions, guided negative draws); tables: the sigmoid tables

Performance notes (benchmarks/bench_word2vec.py, d=100, window 5, negative 5, sample 1e-3):
- Every kernel is nogil; a batch kernel trains ~10,000 words per call, so the dispatch (the only
  moment a worker holds the GIL) is well under 1% of the time.
- The 100-long dot products and row updates compile to 8-wide AVX loops (checked in the
  assembly): `fastmath` allows reassociation and contraction in steps.py only, where results are
  compared with the twins and torch at 1e-5..1e-6 relative; one thread stays bit-for-bit
  reproducible run to run because the compiled order is fixed.
- The sigmoid and log tables are made once per train() call; negatives are drawn through a guide
  table (one or two steps instead of a 15-step bisection); a centre's negative rows are
  prefetched before its pairs are trained.
- Outside the kernels (model.py): a corpus in memory is mapped to ids once, in build_vocab
  (4 bytes a word), so an epoch does no per-sentence Python work; each worker thread takes the
  next raw batch from a shared counter (no queue) and subsamples, cuts and trains it itself.
  Before this, the calling thread mapped and subsampled every batch while the workers waited:
  about 5% of a skip-gram epoch and 15-20% of a CBOW one, and the reason CBOW on two workers
  was slower than on one.
- Measured (`--speed`: whole corpus, 2.5M words, 1 epoch, 2 repeats) on a shared 2-core machine
  whose second core was mostly busy (a pure nogil loop ran only 1.03-1.15x faster on two threads
  than on one), so thread scaling could not be checked (both libraries scaled 0.7-1.5x), and
  ratios moved by +-20% between runs. minembed / gensim 4.4, three runs:
  skip-gram 1 worker 0.95, 0.94, 0.86x; 2 workers 0.98, 1.04, 0.92x;
  CBOW 1 worker 1.07, 0.69 (run disturbed by a test run), 1.02x; 2 workers 1.51, 1.14, 1.00x.
  build_vocab is 1.5x gensim's time (it also maps the corpus to ids: ~0.6 s for 2.5M words).
  Skip-gram on one worker is the setting still short of 1.0x there. Re-measure on two free cores.
- Quality after these changes (whole corpus, 5 epochs, 2 workers, seed 1 only): CBOW WS353 0.244
  vs gensim 0.249, SimLex 0.029 vs 0.032, analogies 8.45% vs 8.67%; skip-gram WS353 0.260 vs
  0.280, SimLex 0.166 vs 0.167, analogies 8.37% vs 8.56% (one seed: the goals use the mean of 3).
- Tried and dropped: fusing "work += g * row; row += g * input" into one loop; LLVM no longer
  vectorised it (the two rows may alias), and it was not faster.
"""
