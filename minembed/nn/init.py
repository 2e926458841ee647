"""torch.nn.init's initialisers on NumPy arrays, drawing torch's streams (minembed.random).

The names, arguments and arithmetic are torch's: bounds are computed in Python floats from
the same fans, then one uniform_/normal_ draw, so `generator` (a minembed.random.Generator, or
the default generator when None) advances exactly as torch's does.

>>> from minembed.random import Generator
>>> w = kaiming_uniform_(np.empty((3, 4), np.float32), a=math.sqrt(5), generator=Generator().manual_seed(0))
>>> bool((np.abs(w) <= 0.5).all())
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from minembed.random import sampling

__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "kaiming_uniform_",
    "normal_",
    "uniform_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid")  # fmt: skip


def normal_(tensor: np.ndarray, mean: float = 0.0, std: float = 1.0, generator=None) -> np.ndarray:
    """Fill tensor from N(mean, std**2) in place (torch.nn.init.normal_); returns it."""
    return sampling.normal_(tensor, mean, std, generator=generator)


def uniform_(tensor: np.ndarray, a: float = 0.0, b: float = 1.0, generator=None) -> np.ndarray:
    """Fill tensor uniformly from [a, b) in place (torch.nn.init.uniform_); returns it."""
    return sampling.uniform_(tensor, a, b, generator=generator)


def zeros_(tensor: np.ndarray) -> np.ndarray:
    """Fill tensor with zeros in place; draws nothing."""
    tensor[...] = 0
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor: np.ndarray) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch computes them."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: np.ndarray, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(
    tensor: np.ndarray, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
) -> np.ndarray:
    """He initialisation: uniform in [-bound, bound], bound = gain * sqrt(3 / fan) (torch.nn.init.kaiming_uniform_)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * (gain / math.sqrt(_fan(tensor, mode)))
    return sampling.uniform_(tensor, -bound, bound, generator=generator)


def xavier_uniform_(tensor: np.ndarray, gain: float = 1.0, generator=None) -> np.ndarray:
    """Glorot initialisation: uniform in [-a, a], a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return sampling.uniform_(tensor, -bound, bound, generator=generator)


def init_source(rng, generator):
    """(rng, generator) for a module's initialisation: a numpy.random.Generator as rng keeps NumPy's
    stream (not torch's); otherwise torch's stream from generator (None: the default generator).
    A minembed.random.Generator passed as rng is taken as the generator."""
    from minembed.random import Generator

    if isinstance(rng, Generator):
        if generator is not None:
            raise ValueError("pass either rng= or generator=, not both")
        return None, rng
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}; "
                "for torch's stream pass generator=minembed.random.Generator().manual_seed(seed)"
            )
        if generator is not None:
            raise ValueError("pass either rng= (NumPy's stream) or generator= (torch's stream), not both")
        return rng, None
    sampling.resolve_generator(generator)  # a clear error for a wrong type
    return None, generator
