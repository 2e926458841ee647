"""torch's CPU random streams as an oracle: NumPy in, NumPy out (the only place tests draw from torch).

Every function starts from an explicit generator state (the 5056 bytes of get_state(), which
minembed.random.Generator.get_state() also produces) or a seed, runs torch, and returns NumPy
arrays together with the state afterwards, so tests compare minembed and torch step by step.
"""

from __future__ import annotations

import numpy as np
import torch

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def generator_from_state(state) -> torch.Generator:
    g = torch.Generator()
    g.set_state(torch.from_numpy(np.ascontiguousarray(state, dtype=np.uint8).copy()))
    return g


def state_of(g: torch.Generator) -> np.ndarray:
    return g.get_state().numpy().copy()


def seeded_state(seed: int) -> np.ndarray:
    """The state bytes of torch.Generator().manual_seed(seed)."""
    return state_of(torch.Generator().manual_seed(seed))


def initial_seed_of(seed: int) -> int:
    return torch.Generator().manual_seed(seed).initial_seed()


def _strided(shape, dtype, layout):
    """An empty tensor of `shape` with the given layout: "contiguous", "transposed" or "sliced"."""
    if layout == "contiguous":
        return torch.empty(shape, dtype=dtype)
    if layout == "transposed":
        return torch.empty(tuple(reversed(shape)), dtype=dtype).permute(*reversed(range(len(shape))))
    if layout == "sliced":  # every other element of the last axis
        return torch.empty(tuple(shape[:-1]) + (2 * shape[-1],), dtype=dtype)[..., ::2]
    raise ValueError(layout)


def run_calls(state, calls) -> tuple[list[np.ndarray], np.ndarray]:
    """Run a sequence of sampling calls on one torch.Generator; returns (outputs, state after).

    A call is (name, kwargs): "randn"/"rand" (shape, dtype), "normal_" (shape, dtype, mean, std,
    layout), "uniform_" (shape, dtype, low, high, layout), "randint" (low, high, shape),
    "randperm" (n). dtypes are NumPy dtypes. Strided outputs come back as NumPy views' values.
    """
    g = generator_from_state(state)
    outputs = []
    for name, kw in calls:
        if name == "randn":
            out = torch.randn(kw["shape"], generator=g, dtype=TORCH_DTYPES[np.dtype(kw["dtype"])])
        elif name == "rand":
            out = torch.rand(kw["shape"], generator=g, dtype=TORCH_DTYPES[np.dtype(kw["dtype"])])
        elif name == "normal_":
            out = _strided(kw["shape"], TORCH_DTYPES[np.dtype(kw["dtype"])], kw.get("layout", "contiguous"))
            out.normal_(kw.get("mean", 0.0), kw.get("std", 1.0), generator=g)
        elif name == "uniform_":
            out = _strided(kw["shape"], TORCH_DTYPES[np.dtype(kw["dtype"])], kw.get("layout", "contiguous"))
            out.uniform_(kw.get("low", 0.0), kw.get("high", 1.0), generator=g)
        elif name == "randint":
            out = torch.randint(kw["low"], kw["high"], kw["shape"], generator=g)
        elif name == "randperm":
            out = torch.randperm(kw["n"], generator=g)
        else:
            raise ValueError(name)
        outputs.append(out.numpy().copy())
    return outputs, state_of(g)


def module_init(kind: str, seed: int, **kw) -> list[np.ndarray]:
    """The parameters torch.nn.<kind> gets right after torch.manual_seed(seed) (float32)."""
    torch.manual_seed(seed)
    if kind == "Embedding":
        module = torch.nn.Embedding(kw["num_embeddings"], kw["embedding_dim"], padding_idx=kw.get("padding_idx"))
    elif kind == "EmbeddingBag":
        module = torch.nn.EmbeddingBag(kw["num_embeddings"], kw["embedding_dim"], padding_idx=kw.get("padding_idx"))
    elif kind == "Linear":
        module = torch.nn.Linear(kw["in_features"], kw["out_features"], bias=kw.get("bias", True))
    elif kind == "TokenAndPosition":  # the course's two layers, token table first
        token = torch.nn.Embedding(kw["vocab_size"], kw["embedding_dim"])
        position = torch.nn.Embedding(kw["context_length"], kw["embedding_dim"])
        return [token.weight.detach().numpy().copy(), position.weight.detach().numpy().copy()]
    else:
        raise ValueError(kind)
    return [p.detach().numpy().copy() for p in module.parameters()]


def init_function(name: str, shape, seed: int, **kw) -> np.ndarray:
    """torch.nn.init.<name> on a float32 tensor of `shape` with torch.Generator().manual_seed(seed)."""
    from torch.nn import init

    g = torch.Generator().manual_seed(seed)
    t = torch.empty(shape)
    if name == "kaiming_uniform_":
        init.kaiming_uniform_(t, generator=g, **kw)
    elif name == "xavier_uniform_":
        init.xavier_uniform_(t, generator=g, **kw)
    elif name == "normal_":
        init.normal_(t, generator=g, **kw)
    elif name == "uniform_":
        init.uniform_(t, generator=g, **kw)
    else:
        raise ValueError(name)
    return t.numpy().copy()


def default_generator_state() -> np.ndarray:
    return torch.get_rng_state().numpy().copy()


def dataloader_orders(n: int, batch_size: int, drop_last: bool, epochs: int, seed: int, with_generator: bool):
    """The sample order of each epoch of DataLoader(range(n), shuffle=True), after torch.manual_seed(seed),
    with generator=torch.Generator().manual_seed(seed + 1) if with_generator; returns (orders, final state
    of the generator that was drawn from)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1) if with_generator else None
    loader = torch.utils.data.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True, drop_last=drop_last,
                                         generator=g)  # fmt: skip
    orders = [[int(i) for batch in loader for i in batch] for _ in range(epochs)]
    return orders, state_of(g) if with_generator else default_generator_state()


def course_dataloader_batches(token_ids, batch_size: int, max_length: int, stride: int, seed: int, epochs: int):
    """The course's GPTDatasetV1 + DataLoader(shuffle=True, drop_last=True) batches after torch.manual_seed(seed)."""

    class GPTDatasetV1(torch.utils.data.Dataset):
        def __init__(self, ids):
            self.inputs, self.targets = [], []
            for i in range(0, len(ids) - max_length, stride):
                self.inputs.append(torch.tensor(ids[i : i + max_length]))
                self.targets.append(torch.tensor(ids[i + 1 : i + max_length + 1]))

        def __len__(self):
            return len(self.inputs)

        def __getitem__(self, idx):
            return self.inputs[idx], self.targets[idx]

    torch.manual_seed(seed)
    loader = torch.utils.data.DataLoader(GPTDatasetV1(list(token_ids)), batch_size=batch_size, shuffle=True,
                                         drop_last=True)  # fmt: skip
    return [[(x.numpy(), y.numpy()) for x, y in loader] for _ in range(epochs)]


def nanogpt_offsets(seed: int, high: int, batch_size: int) -> np.ndarray:
    """nanoGPT's torch.randint(len(data) - block_size, (batch_size,)) after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return torch.randint(high, (batch_size,)).numpy().copy()


def dataloader_order_with_draw_before_first_batch(n: int, batch_size: int, seed: int) -> list[int]:
    """One epoch of DataLoader(range(n), shuffle=True) where torch.rand(1) runs between iter() and the
    first batch: the sampler's seed is drawn at the first batch, so the draw shifts the order."""
    torch.manual_seed(seed)
    batches = iter(torch.utils.data.DataLoader(list(range(n)), batch_size=batch_size, shuffle=True))
    torch.rand(1)
    return [int(i) for batch in batches for i in batch]
