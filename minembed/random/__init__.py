"""torch-exact random streams: torch's CPU generator and sampling functions on NumPy arrays.

`minembed.manual_seed(123)` followed by `minembed.nn.Embedding(6, 3)` gives torch's table bit
for bit on x86-64 Linux (printed precision elsewhere). See generator.py, sampling.py and
capability.py; the kernels are in kernels/, each beside its NumPy twin.
"""

from __future__ import annotations

from minembed.random.capability import get_cpu_capability, set_cpu_capability
from minembed.random.generator import (
    DEFAULT_SEED,
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from minembed.random.sampling import normal_, rand, randint, randn, randperm, uniform_

__all__ = [
    "DEFAULT_SEED",
    "Generator",
    "default_generator",
    "get_cpu_capability",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "normal_",
    "rand",
    "randint",
    "randn",
    "randperm",
    "seed",
    "set_cpu_capability",
    "set_rng_state",
    "uniform_",
]
