"""Optimizer: the bookkeeping torch.optim.Optimizer does, over minembed Parameters.

Parameters come in groups (each a dict of hyperparameters plus "params"), per-parameter state
is a dict keyed by the parameter's position over all groups, and state_dict() has torch's layout:
{"state": {index: {...arrays...}}, "param_groups": [{hyperparameters..., "params": [indices]}]}.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterable

import numpy as np

from minembed.nn.parameter import Parameter
from minembed.nn.sparse import SparseRowGradient

# Updates of at least this many values run in two halves at once (minembed._threads.in_two_if_large),
# one on minembed's helper thread: kernels/adam.py says why not on Numba's OpenMP pool.
SPLIT_FROM = 1 << 16


def check_hyperparameter(name: str, value, low: float = 0.0, high: float | None = None) -> float:
    """value as a float in [low, high) (high None: no upper bound); ValueError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (high is not None and value >= high):
        upper = f", below {high}" if high is not None else ""
        raise ValueError(f"{name} must be at least {low}{upper}; got {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class: param_groups, state, zero_grad, state_dict/load_state_dict; subclasses define step()."""

    def __init__(self, params: Iterable[Parameter] | Iterable[dict], defaults: dict) -> None:
        self.defaults = defaults
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list; pass model.parameters()")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}
        seen: set[int] = set()
        for group in groups:
            group = dict(group)
            group["params"] = list(group["params"])
            for param in group["params"]:
                if not isinstance(param, Parameter):
                    raise TypeError(
                        f"params must be minembed Parameters (model.parameters()), got {type(param).__name__}"
                    )
                if id(param.data) in seen:
                    raise ValueError(f"parameter {param.name!r} appears twice; list each array once")
                seen.add(id(param.data))
            for key, value in defaults.items():
                group.setdefault(key, value)
            self.param_groups.append(group)

    def _indexed_params(self):
        """(index over all groups, group, Parameter), the order state_dict() numbers them in."""
        index = 0
        for group in self.param_groups:
            for param in group["params"]:
                yield index, group, param
                index += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (set_to_none=True, torch's default) or zero it in place."""
        for _, _, param in self._indexed_params():
            grad = param.grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
            elif isinstance(grad, SparseRowGradient):
                param.grad = SparseRowGradient(np.zeros(0, np.int64), grad.values[:0], grad.shape)
            else:
                grad[...] = 0

    def state_dict(self) -> dict:
        """{"state": {index: per-parameter state}, "param_groups": [hyperparameters + "params": indices]}.

        Arrays are copies: later steps do not change a saved state_dict.
        """
        groups, index = [], 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            index += len(group["params"])
            groups.append(packed)
        return {"state": copy.deepcopy(self.state), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by state_dict() (here or converted from torch's)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(saved["params"]) != len(group["params"]) for saved, group in zip(groups, self.param_groups)
        ):
            raise ValueError(
                "state_dict has a different number of parameter groups or parameters than this optimizer: "
                f"{[len(g['params']) for g in groups]} vs {[len(g['params']) for g in self.param_groups]}"
            )
        params = [param for _, _, param in self._indexed_params()]
        saved_ids = [i for saved in groups for i in saved["params"]]
        state = {}
        for saved_index, position in zip(saved_ids, range(len(params))):
            if saved_index in state_dict["state"]:
                state[position] = self._load_param_state(state_dict["state"][saved_index], params[position])
        for saved, group in zip(groups, self.param_groups):
            group.update({key: value for key, value in saved.items() if key != "params"})
        self.state = state

    @staticmethod
    def _load_param_state(saved: dict, param: Parameter) -> dict:
        out = {}
        for key, value in saved.items():
            if key == "step":
                out[key] = copy.deepcopy(value)
            elif value is None:
                out[key] = None
            else:
                # a C-ordered copy in the parameter's dtype (as torch casts): the kernels update flat views of it
                value = np.array(value, dtype=param.dtype, order="C")
                if value.shape != param.shape:
                    raise ValueError(
                        f"state {key!r} of {param.name!r} has shape {value.shape}, the parameter {param.shape}"
                    )
                out[key] = value
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines + [")"])
