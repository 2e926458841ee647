"""Splitting text into pieces: the one unit that encoding, BPE training and `tokenize_files` use.

- `patterns`: the split patterns of gpt2 / r50k_base, cl100k_base, o200k_base and the GPT-4
  training pattern, and the registry that gives each its hand-written matcher;
- `classes`: the character-class table the matchers read (the bits are defined there only);
- `cuts`: the safe cut points of each pattern, where a long text may be cut;
- `kernels/split.py`: the Numba matchers (twin: `split_numpy.py`, on `regex.findall`);
  `kernels/hash.py`: the one hash of a piece's bytes.

Adding a pattern touches this unit and its tests only.
"""

from minembed.text.classes import char_classes
from minembed.text.cuts import SafeCuts, safe_cuts
from minembed.text.patterns import (
    CL100K_SPLIT_PATTERN,
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    O200K_SPLIT_PATTERN,
    PATTERN_IDS,
    pattern_id,
)

__all__ = [
    "CL100K_SPLIT_PATTERN",
    "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN",
    "O200K_SPLIT_PATTERN",
    "PATTERN_IDS",
    "SafeCuts",
    "char_classes",
    "pattern_id",
    "safe_cuts",
]
