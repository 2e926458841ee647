"""Numba kernels of the tokenizers: pieces -> token ids, and BPE training.

- `merge`: BPE-merge pieces from their bytes (tiktoken's rule, lowest rank first);
- `encode`: the one-call engine of `Encoding.encode`: split, look up, merge;
- `count`: count the distinct pieces of a corpus (BPE training's first stage);
- `train_merges`: the merge loop of BPE training.

Each `x.py` holds `@njit(cache=True)` code only, beside its readable twin `x_numpy.py` with
the same signatures; the tests run both. Kernels trust their input: the Python wrappers in
`minembed.tokenizers` validate first.
"""
