"""Generator: torch's CPU random generator (mt19937), state for state and byte for byte.

A Generator holds torch's fields: the 624-word mt19937 key, `left` and `next`, the seed as
given, and the cached second value of the double Box-Muller transform. `get_state()` returns
the 5056 bytes `torch.Generator.get_state()` returns, and `set_state()` takes them back (a
torch ByteTensor works directly: it converts with np.asarray), so a stream can move between
minembed and torch mid-way.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from minembed.random.kernels import mt19937, mt19937_numpy

# torch's default_rng_seed_val: where a fresh torch.Generator() starts.
DEFAULT_SEED = 67280421310721

# torch's CPUGeneratorImplState (a THGeneratorState followed by the float cache), 5056 bytes.
STATE_DTYPE = np.dtype(
    {
        "names": ["the_initial_seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
                  "normal_is_valid", "next_float_normal_sample", "is_next_float_normal_sample_valid"],
        "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", 624), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
        "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
        "itemsize": 5056,
    }
)  # fmt: skip

_MIN_SEED = -(2**63)
_MAX_SEED = 2**64 - 1


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not _MIN_SEED <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in [-2**63, 2**64 - 1] as in torch, got {seed}")
    return seed % 2**64  # a negative seed is its unsigned 64-bit value, as in torch


class Generator:
    """torch.Generator's CPU stream: `Generator().manual_seed(123)` draws what torch's does.

    A fresh Generator starts from torch's default seed 67280421310721. Only the low 32 bits
    of a seed reach mt19937 (as in torch); `initial_seed()` returns the whole seed.

    >>> g = Generator().manual_seed(123)
    >>> g.initial_seed()
    123
    >>> g.get_state().shape
    (5056,)
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self._key = np.empty(624, dtype=np.uint32)
        self._cursor = np.empty(2, dtype=np.int64)  # torch's [left, next]
        self._normal_cache = np.zeros(2, dtype=np.float64)  # [has_value, value]
        self._float_cache = (False, 0.0)  # torch keeps one for float normals; CPU kernels never fill it
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed: init_genrand(seed & 0xffffffff), clear the cached normals; returns self."""
        self._seed = _check_seed(seed)
        # 624 steps of plain Python (~0.2 ms) beat loading the compiled kernel (~0.3 s) at import.
        mt19937_numpy.seed_key(self._seed & 0xFFFFFFFF, self._key, self._cursor)
        self._normal_cache[:] = 0.0
        self._float_cache = (False, 0.0)
        return self

    def initial_seed(self) -> int:
        """The seed last given (negative seeds as their unsigned 64-bit value)."""
        return self._seed

    def seed(self) -> int:
        """Reseed from the operating system's entropy, as torch does; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def get_state(self) -> np.ndarray:
        """(5056,) uint8: the bytes of torch.Generator.get_state() for the same stream."""
        record = np.zeros((), dtype=STATE_DTYPE)
        record["the_initial_seed"] = self._seed
        record["left"] = self._cursor[0]
        record["seeded"] = 1
        record["next"] = self._cursor[1]
        record["state"] = self._key
        if self._normal_cache[0]:
            record["normal_is_valid"] = 1
            record["normal_y"] = self._normal_cache[1]
        if self._float_cache[0]:
            record["is_next_float_normal_sample_valid"] = 1
            record["next_float_normal_sample"] = self._float_cache[1]
        return np.frombuffer(record.tobytes(), dtype=np.uint8).copy()

    def set_state(self, state) -> Generator:
        """Continue from `state`: bytes from get_state() here or from torch; returns self."""
        raw = np.ascontiguousarray(np.asarray(state), dtype=np.uint8).ravel()
        if raw.size != STATE_DTYPE.itemsize:
            raise ValueError(
                f"state must be the {STATE_DTYPE.itemsize} bytes of Generator.get_state() (or torch's), "
                f"got {raw.size} bytes"
            )
        record = np.frombuffer(raw.tobytes(), dtype=STATE_DTYPE)[0]
        left, nxt = int(record["left"]), int(record["next"])
        if not (1 <= left <= 624 and 0 <= nxt <= 624):
            raise ValueError(f"state is not a valid mt19937 state: left={left}, next={nxt}")
        self._seed = int(record["the_initial_seed"])
        self._key[:] = record["state"].astype(np.uint32)
        self._cursor[:] = (left, nxt)
        self._normal_cache[:] = (1.0, record["normal_y"]) if record["normal_is_valid"] else (0.0, 0.0)
        valid_float = bool(record["is_next_float_normal_sample_valid"])
        self._float_cache = (valid_float, float(record["next_float_normal_sample"]) if valid_float else 0.0)
        return self

    def random_words(self, count: int) -> np.ndarray:
        """The next `count` 32-bit words (torch's `random()`), (count,) uint32."""
        out = np.empty(count, dtype=np.uint32)
        mt19937.fill_words(self._key, self._cursor, out)
        return out

    def random_words64(self, count: int) -> np.ndarray:
        """The next `count` 64-bit values (torch's `random64()`), (count,) uint64."""
        out = np.empty(count, dtype=np.uint64)
        mt19937.fill_words64(self._key, self._cursor, out)
        return out

    def __repr__(self) -> str:
        return f"minembed.random.Generator(initial_seed={self._seed})"


def _fresh_process_seed() -> int:
    # torch 2.13 seeds its default CPU generator from the OS at start-up (checked: torch.initial_seed()
    # differs between fresh processes), so an unseeded program draws different numbers each run.
    return int.from_bytes(os.urandom(8), "little")


default_generator = Generator(_fresh_process_seed())


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (torch.manual_seed); returns it."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The default generator's seed (torch.initial_seed)."""
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the default generator from the OS (torch.seed); returns the seed."""
    return default_generator.seed()


def get_rng_state() -> np.ndarray:
    """The default generator's 5056 state bytes (torch.get_rng_state)."""
    return default_generator.get_state()


def set_rng_state(state) -> None:
    """Set the default generator's state (torch.set_rng_state)."""
    default_generator.set_state(state)
