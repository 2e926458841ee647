"""torch's sampling functions on NumPy arrays: randn, rand, randint, randperm, normal_, uniform_.

Each draws from `generator` (a minembed.random.Generator) or the default generator, word for
word as torch's CPU kernels do, so the same seed gives the same values bit for bit (x86-64
Linux; see capability.py for the two torch builds). float32 and float64 (default float32).
"""

from __future__ import annotations

import numbers

import numpy as np

from minembed.random import capability
from minembed.random import generator as _generator
from minembed.random.generator import Generator
from minembed.random.kernels import mt19937
from minembed.random.kernels import normal as normal_kernels
from minembed.random.kernels import uniform as uniform_kernels

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_BLOCK = 16  # torch's normal_fill transforms blocks of 16 and needs at least one


def resolve_generator(generator) -> Generator:
    """generator, or the default generator when it is None."""
    if generator is None:
        return _generator.default_generator
    if isinstance(generator, Generator):
        return generator
    raise TypeError(
        f"generator must be a minembed.random.Generator or None, got {type(generator).__name__}; "
        "for a numpy.random.Generator use the rng= parameter where one exists"
    )


def _check_float_array(tensor, name: str) -> np.ndarray:
    if not isinstance(tensor, np.ndarray) or tensor.dtype not in FLOAT_DTYPES:
        kind = tensor.dtype if isinstance(tensor, np.ndarray) else type(tensor).__name__
        raise TypeError(f"{name} must be a float32 or float64 numpy array, got {kind}")
    if not tensor.flags.writeable:
        raise ValueError(f"{name} is read-only; pass a writable array (e.g. a copy)")
    return tensor


def _shape(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for extent in size:
        if isinstance(extent, bool) or not isinstance(extent, numbers.Integral) or extent < 0:
            raise ValueError(f"size must be non-negative ints, got {size!r}")
    return tuple(int(extent) for extent in size)


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype}")
    return dtype


def _memory_order(tensor: np.ndarray) -> np.ndarray:
    """A view of tensor whose C order is its memory order: the order torch's TensorIterator
    visits a non-contiguous tensor (negative strides, which torch lacks, are walked upward)."""
    view = tensor
    for axis, stride in enumerate(tensor.strides):
        if stride < 0:
            view = np.flip(view, axis)
    order = sorted(range(view.ndim), key=lambda axis: -abs(view.strides[axis]))
    return view.transpose(order)


def _fill_in_memory_order(tensor: np.ndarray, fill) -> None:
    """Call fill(flat contiguous buffer) and write the values to tensor in memory order."""
    if tensor.flags.c_contiguous:
        fill(tensor.reshape(-1))
        return
    view = _memory_order(tensor)
    buffer = np.empty(view.shape, dtype=tensor.dtype)
    fill(buffer.reshape(-1))
    view[...] = buffer


def normal_(tensor: np.ndarray, mean: float = 0.0, std: float = 1.0, generator=None) -> np.ndarray:
    """Fill tensor (float32/float64, any strides) with N(mean, std**2) in place, as torch does; returns it.

    16 or more values in a C-contiguous array: all uniforms first, then blocks of 16 (a short
    tail redrawn as a last block of 16). Otherwise one double Box-Muller value at a time in
    memory order, using and refilling the generator's cached second value.

    >>> from minembed.random import Generator
    >>> normal_(np.empty(4, np.float32), generator=Generator().manual_seed(0)).dtype
    dtype('float32')
    """
    tensor = _check_float_array(tensor, "tensor")
    if not std >= 0.0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    gen = resolve_generator(generator)
    avx2 = capability.get_cpu_capability() == "avx2"
    n = tensor.size
    if n >= _BLOCK and tensor.flags.c_contiguous:
        flat = tensor.reshape(-1)
        _normal_blocks(flat, gen, mean, std, avx2)
        if n % _BLOCK:
            tail = np.empty(_BLOCK, dtype=tensor.dtype)
            _normal_blocks(tail, gen, mean, std, avx2)
            flat[n - _BLOCK :] = tail
        return tensor

    def fill(flat):
        normal_kernels.normal_serial(gen._key, gen._cursor, gen._normal_cache, flat, float(mean), float(std), avx2)

    _fill_in_memory_order(tensor, fill)
    return tensor


def _normal_blocks(flat: np.ndarray, gen: Generator, mean, std, avx2: bool) -> None:
    """Draw flat.size uniforms into flat's own memory, then transform its whole blocks of 16 in place."""
    blocks = flat[: flat.size // _BLOCK * _BLOCK]
    if flat.dtype == np.float32:
        words = flat.view(np.uint32)
        mt19937.fill_words(gen._key, gen._cursor, words)
        transform = normal_kernels.normal_blocks_avx2_f32 if avx2 else normal_kernels.normal_blocks_generic_f32
        transform(words, blocks, np.float32(mean), np.float32(std))
    else:
        words = flat.view(np.uint64)
        mt19937.fill_words64(gen._key, gen._cursor, words)
        normal_kernels.normal_blocks_f64(words, blocks, float(mean), float(std))


def uniform_(tensor: np.ndarray, low: float = 0.0, high: float = 1.0, generator=None) -> np.ndarray:
    """Fill tensor (float32/float64, any strides) uniformly from [low, high) in place (torch's
    Tensor.uniform_(from, to)), in memory order; returns it.

    >>> from minembed.random import Generator
    >>> x = uniform_(np.empty(5), -1.0, 1.0, generator=Generator().manual_seed(0))
    >>> bool(((-1 <= x) & (x < 1)).all())
    True
    """
    tensor = _check_float_array(tensor, "tensor")
    if not low <= high:
        raise ValueError(f"uniform_ needs low <= high, got low={low!r}, high={high!r}")
    gen = resolve_generator(generator)
    fused = capability.get_cpu_capability() == "avx2"

    def fill(flat):  # flat is contiguous: the words are drawn into its own memory, then transformed in place
        if flat.dtype == np.float32:
            words = flat.view(np.uint32)
            mt19937.fill_words(gen._key, gen._cursor, words)
            uniform_kernels.uniform_f32(words, flat, np.float32(low), np.float32(high), fused)
        else:
            words = flat.view(np.uint64)
            mt19937.fill_words64(gen._key, gen._cursor, words)
            uniform_kernels.uniform_f64(words, flat, float(low), float(high), fused)

    _fill_in_memory_order(tensor, fill)
    return tensor


def randn(*size, generator=None, dtype=np.float32) -> np.ndarray:
    """An array of the given size from N(0, 1), as torch.randn (default float32)."""
    return normal_(np.empty(_shape(size), dtype=_float_dtype(dtype)), generator=generator)


def rand(*size, generator=None, dtype=np.float32) -> np.ndarray:
    """An array of the given size uniform in [0, 1), as torch.rand (default float32)."""
    return uniform_(np.empty(_shape(size), dtype=_float_dtype(dtype)), generator=generator)


def randint(low: int, high=None, size=None, *, generator=None, dtype=np.int64) -> np.ndarray:
    """Integers uniform in [low, high) of the given size, as torch.randint.

    `randint(high, size)` and `randint(low, high, size)`, like torch. A range below 2**28
    takes one 32-bit word per value, a larger one a 64-bit value (two words), modulo the range.

    >>> from minembed.random import Generator
    >>> randint(10, (3,), generator=Generator().manual_seed(0)).shape
    (3,)
    """
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint needs a size, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
    low, high = int(low), int(high)
    if low >= high:
        raise ValueError(f"randint needs low < high, got low={low}, high={high}")
    shape = _shape((size,) if isinstance(size, numbers.Integral) else tuple(size))
    count = int(np.prod(shape, dtype=np.int64))
    gen = resolve_generator(generator)
    span = high - low
    if span < 2**28:
        offsets = gen.random_words(count) % np.uint32(span)
    else:
        offsets = gen.random_words64(count) % np.uint64(span)
    values = offsets.astype(np.int64) + np.int64(low) if span < 2**63 else (offsets + np.uint64(low % 2**64))
    return values.astype(dtype, copy=False).reshape(shape)


# torch switches to a 64-bit inside-out shuffle from here on (randperm_cpu).
_FORWARD_SHUFFLE_LIMIT = (1 << 32) // 20


def randperm(n: int, *, generator=None, dtype=np.int64) -> np.ndarray:
    """A random permutation of 0..n-1, (n,) int64, as torch.randperm.

    >>> from minembed.random import Generator
    >>> sorted(randperm(5, generator=Generator().manual_seed(0)).tolist())
    [0, 1, 2, 3, 4]
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    n = int(n)
    gen = resolve_generator(generator)
    out = np.arange(n, dtype=np.int64)
    if n < _FORWARD_SHUFFLE_LIMIT:
        if n > 1:
            uniform_kernels.shuffle_forward(gen.random_words(n - 1), out)
    else:
        uniform_kernels.shuffle_inside_out(gen.random_words64(n), out)
    return out.astype(dtype, copy=False)
