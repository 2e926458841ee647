"""Learning-rate schedules: linear warmup, then cosine decay (the GPT-2/3 and nanoGPT recipe).

    factor(t) = (t + 1) / warmup_steps                        for t < warmup_steps
              = min_ratio + (1 - min_ratio) * (1 + cos(pi * p)) / 2,  p = (t - warmup) / (total - warmup)
              = min_ratio                                      for t >= total_steps
lr(t) = base_lr * factor(t). Counting from t = 0 for the first step, the first step already has a
non-zero learning rate (1 / warmup_steps of the peak), as in nanoGPT.
"""

from __future__ import annotations

import math
import numbers

from minembed.optim.optimizer import Optimizer


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def warmup_cosine(step: int, *, warmup_steps: int, total_steps: int, min_ratio: float = 0.1) -> float:
    """The factor (0, 1] that multiplies the base learning rate at `step` (0-based).

    >>> [round(warmup_cosine(t, warmup_steps=2, total_steps=6), 3) for t in range(7)]
    [0.5, 1.0, 1.0, 0.868, 0.55, 0.232, 0.1]
    """
    step = _check_count("step", step)
    warmup_steps = _check_count("warmup_steps", warmup_steps)
    total_steps = _check_count("total_steps", total_steps)
    if not 0.0 <= min_ratio <= 1.0:
        raise ValueError(f"min_ratio must be in [0, 1], got {min_ratio!r}")
    if total_steps < warmup_steps:
        raise ValueError(f"total_steps={total_steps} must be at least warmup_steps={warmup_steps}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if step >= total_steps:
        return min_ratio
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosine:
    """Sets every group's lr to base_lr * warmup_cosine(t); call step() after optimizer.step().

    Like torch's LambdaLR: constructing it sets the lr of step 0; `last_step` counts the steps.

    >>> from minembed.nn import Linear
    >>> import numpy as np
    >>> from minembed.optim import SGD
    >>> opt = SGD(Linear(2, 2, rng=np.random.default_rng(0)).parameters(), lr=1.0)
    >>> sched = WarmupCosine(opt, warmup_steps=4, total_steps=10)
    >>> opt.param_groups[0]["lr"], sched.step(), opt.param_groups[0]["lr"]
    (0.25, None, 0.5)
    """

    def __init__(self, optimizer: Optimizer, *, warmup_steps: int, total_steps: int, min_ratio: float = 0.1) -> None:
        self.optimizer = optimizer
        self.warmup_steps, self.total_steps, self.min_ratio = warmup_steps, total_steps, min_ratio
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def _apply(self) -> None:
        factor = warmup_cosine(
            self.last_step, warmup_steps=self.warmup_steps, total_steps=self.total_steps, min_ratio=self.min_ratio
        )
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_step, self.base_lrs = int(state["last_step"]), list(state["base_lrs"])
        self._apply()
